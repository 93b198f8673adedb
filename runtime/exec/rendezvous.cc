#include "runtime/exec/rendezvous.h"

#include <condition_variable>
#include <vector>

namespace loom {

std::string Rendezvous::CreateKey(const std::string& src, uint64_t incarnation, const std::string& dst,
                                  const std::string& name) {
  return StrCat(src, ";", incarnation, ";", dst, ";", name, ";0:0");
}

Status Rendezvous::Send(const std::string& key, const Tensor& value) {
  DoneCallback waiter;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!abort_.ok()) return abort_;
    Item& it = table_[key];
    if (it.has_value) return AlreadyExists("rendezvous key '", key, "' was sent twice in one step");
    if (it.waiter) {
      waiter = std::move(it.waiter);
      table_.erase(key);
    } else {
      it.has_value = true;
      it.value = value;
    }
  }
  if (waiter) waiter(Status::OK(), value);
  return Status::OK();
}

void Rendezvous::RecvAsync(const std::string& key, DoneCallback done) {
  Tensor value;
  Status st;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!abort_.ok()) {
      st = abort_;
    } else {
      auto found = table_.find(key);
      if (found != table_.end() && found->second.has_value) {
        value = std::move(found->second.value);
        table_.erase(found);
      } else if (found != table_.end() && found->second.waiter) {
        st = AlreadyExists("rendezvous key '", key, "' has two receivers in one step");
      } else {
        table_[key].waiter = std::move(done);
        return;
      }
    }
  }
  done(st, value);
}

Status Rendezvous::Recv(const std::string& key, Tensor* value) {
  std::mutex m;
  std::condition_variable cv;
  bool ready = false;
  Status result;
  RecvAsync(key, [&](const Status& s, const Tensor& t) {
    std::lock_guard<std::mutex> l(m);
    result = s;
    *value = t;
    ready = true;
    cv.notify_one();
  });
  std::unique_lock<std::mutex> l(m);
  cv.wait(l, [&] { return ready; });
  return result;
}

void Rendezvous::StartAbort(const Status& s) {
  std::vector<DoneCallback> waiters;
  std::vector<std::function<void(const Status&)>> callbacks;
  Status status;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!abort_.ok()) return;
    abort_ = s.ok() ? Cancelled("rendezvous aborted") : s;
    status = abort_;
    aborted_.store(true, std::memory_order_relaxed);
    for (auto& kv : table_)
      if (kv.second.waiter) waiters.push_back(std::move(kv.second.waiter));
    table_.clear();
    callbacks.swap(abort_callbacks_);
  }
  // A callback may end the step, and the step may then destroy this
  // rendezvous: from here on only locals are touched.
  for (auto& w : waiters) w(status, Tensor());
  for (auto& cb : callbacks) cb(status);
}

bool Rendezvous::AddAbortCallback(std::function<void(const Status&)> cb) {
  std::lock_guard<std::mutex> l(mu_);
  if (!abort_.ok()) return false;
  abort_callbacks_.push_back(std::move(cb));
  return true;
}

Status Rendezvous::abort_status() const {
  std::lock_guard<std::mutex> l(mu_);
  return abort_;
}

}  // namespace loom
