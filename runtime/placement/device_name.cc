#include "runtime/placement/device_name.h"

#include <cctype>
#include <cstdlib>
#include <vector>

namespace loom {

namespace {

bool ParseInt(const std::string& s, int* out) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s)
    if (!isdigit(static_cast<unsigned char>(c))) return false;
  *out = std::atoi(s.c_str());
  return true;
}

bool ValidType(const std::string& t) {
  if (t.empty()) return false;
  for (char c : t)
    if (!isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

std::string Upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  return s;
}

// "TYPE:N" or "TYPE:*" or "TYPE".
bool ParseTypeAndId(const std::string& s, DeviceName* out) {
  size_t colon = s.find(':');
  std::string type = s.substr(0, colon);
  if (!ValidType(type)) return false;
  out->has_type = true;
  out->type = Upper(type);
  if (colon == std::string::npos) return true;
  std::string id = s.substr(colon + 1);
  if (id == "*") return true;
  if (!ParseInt(id, &out->id)) return false;
  out->has_id = true;
  return true;
}

}  // namespace

Status ParseDeviceName(const std::string& s, DeviceName* out) {
  DeviceName d;
  auto bad = [&](const std::string& why) {
    return InvalidArgument("malformed device name '", s, "' (", why,
                           "); expected /job:J/replica:R/task:T/device:TYPE:N or a part of it");
  };
  if (s.empty()) {
    *out = d;
    return Status::OK();
  }
  if (s[0] != '/') {
    if (!ParseTypeAndId(s, &d)) return bad("bad TYPE:N");
    *out = d;
    return Status::OK();
  }
  std::vector<std::string> parts;
  size_t start = 1;
  while (start <= s.size()) {
    size_t slash = s.find('/', start);
    if (slash == std::string::npos) slash = s.size();
    parts.push_back(s.substr(start, slash - start));
    start = slash + 1;
  }
  for (const std::string& p : parts) {
    if (p.empty()) return bad("empty component");
    size_t colon = p.find(':');
    if (colon == std::string::npos) return bad("component '" + p + "' has no ':'");
    std::string key = p.substr(0, colon), val = p.substr(colon + 1);
    if (key == "job") {
      if (val.empty()) return bad("empty job");
      if (val != "*") { d.has_job = true; d.job = val; }
    } else if (key == "replica") {
      if (val == "*") continue;
      if (!ParseInt(val, &d.replica)) return bad("bad replica");
      d.has_replica = true;
    } else if (key == "task") {
      if (val == "*") continue;
      if (!ParseInt(val, &d.task)) return bad("bad task");
      d.has_task = true;
    } else if (key == "device") {
      if (!ParseTypeAndId(val, &d)) return bad("bad device TYPE:N");
    } else if (ParseTypeAndId(p, &d)) {
      // Legacy "/cpu:0", "/gpu:1".
    } else {
      return bad("unknown component '" + key + "'");
    }
  }
  *out = d;
  return Status::OK();
}

std::string DeviceName::ToString() const {
  std::string s;
  if (has_job) s += "/job:" + job;
  if (has_replica) s += "/replica:" + std::to_string(replica);
  if (has_task) s += "/task:" + std::to_string(task);
  if (has_type) s += "/device:" + type + ":" + (has_id ? std::to_string(id) : std::string("*"));
  return s;
}

bool DeviceName::Matches(const DeviceName& o) const {
  if (has_job && (!o.has_job || o.job != job)) return false;
  if (has_replica && (!o.has_replica || o.replica != replica)) return false;
  if (has_task && (!o.has_task || o.task != task)) return false;
  if (has_type && (!o.has_type || o.type != type)) return false;
  if (has_id && (!o.has_id || o.id != id)) return false;
  return true;
}

}  // namespace loom
