#include "runtime/dist/cluster.h"

#include <cstdlib>
#include <cstring>
#include <memory>

namespace loom {

namespace {

// A JSON value: just what cluster specs use (objects, arrays, strings,
// numbers, true/false/null).
struct Json {
  enum Kind { kNull, kBool, kNumber, kString, kArray, kObject } kind = kNull;
  double number = 0;
  std::string str;
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> fields;
  const Json* Get(const std::string& k) const {
    for (const auto& f : fields)
      if (f.first == k) return &f.second;
    return nullptr;
  }
};

class JsonParser {
 public:
  explicit JsonParser(const std::string& s) : s_(s) {}
  Status Parse(Json* out) {
    RETURN_IF_ERROR(Value(out, 0));
    Skip();
    if (i_ != s_.size()) return Error("end of input");
    return Status::OK();
  }

 private:
  Status Error(const char* expected) const {
    return InvalidArgument("cluster spec JSON: expected ", expected, " at offset ", i_, " of '",
                           s_.substr(0, 200), s_.size() > 200 ? "...'" : "'");
  }
  void Skip() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }
  bool Eat(char c) {
    Skip();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  Status String(std::string* out) {
    if (!Eat('"')) return Error("a string");
    while (i_ < s_.size() && s_[i_] != '"') {
      char c = s_[i_++];
      if (c == '\\' && i_ < s_.size()) {
        char e = s_[i_++];
        c = e == 'n' ? '\n' : e == 't' ? '\t' : e;
      }
      out->push_back(c);
    }
    if (i_ >= s_.size()) return Error("a closing quote");
    ++i_;
    return Status::OK();
  }
  Status Value(Json* v, int depth) {
    if (depth > 16) return Error("less nesting");
    Skip();
    if (i_ >= s_.size()) return Error("a value");
    char c = s_[i_];
    if (c == '"') {
      v->kind = Json::kString;
      return String(&v->str);
    }
    if (c == '{') {
      ++i_;
      v->kind = Json::kObject;
      if (Eat('}')) return Status::OK();
      do {
        std::string key;
        RETURN_IF_ERROR(String(&key));
        if (!Eat(':')) return Error("':'");
        Json item;
        RETURN_IF_ERROR(Value(&item, depth + 1));
        v->fields.emplace_back(std::move(key), std::move(item));
      } while (Eat(','));
      if (!Eat('}')) return Error("',' or '}'");
      return Status::OK();
    }
    if (c == '[') {
      ++i_;
      v->kind = Json::kArray;
      if (Eat(']')) return Status::OK();
      do {
        Json item;
        RETURN_IF_ERROR(Value(&item, depth + 1));
        v->items.push_back(std::move(item));
      } while (Eat(','));
      if (!Eat(']')) return Error("',' or ']'");
      return Status::OK();
    }
    for (const char* word : {"true", "false", "null"})
      if (s_.compare(i_, std::strlen(word), word) == 0) {
        i_ += std::strlen(word);
        v->kind = word[0] == 'n' ? Json::kNull : Json::kBool;
        v->number = word[0] == 't';
        return Status::OK();
      }
    char* end = nullptr;
    v->number = std::strtod(s_.c_str() + i_, &end);
    if (end == s_.c_str() + i_) return Error("a value");
    i_ = static_cast<size_t>(end - s_.c_str());
    v->kind = Json::kNumber;
    return Status::OK();
  }
  const std::string& s_;
  size_t i_ = 0;
};

Status ClusterFromJson(const Json& j, ClusterSpec* out) {
  if (j.kind != Json::kObject) return InvalidArgument("cluster spec: expected an object of jobs");
  out->jobs.clear();
  for (const auto& f : j.fields) {
    const std::string& job = f.first;
    if (job.empty() || job.find_first_of("/: ") != std::string::npos)
      return InvalidArgument("cluster spec: job name '", job, "' is empty or contains '/', ':' or ' '");
    std::vector<std::string>& tasks = out->jobs[job];
    if (f.second.kind == Json::kArray) {
      for (const Json& a : f.second.items) {
        if (a.kind != Json::kString) return InvalidArgument("cluster spec: job '", job, "': addresses are strings");
        tasks.push_back(a.str);
      }
    } else if (f.second.kind == Json::kObject) {
      for (const auto& t : f.second.fields) {
        char* end = nullptr;
        long idx = std::strtol(t.first.c_str(), &end, 10);
        if (t.first.empty() || *end || idx < 0 || idx > 100000)
          return InvalidArgument("cluster spec: job '", job, "': task index '", t.first, "' is not a number");
        if (t.second.kind != Json::kString)
          return InvalidArgument("cluster spec: job '", job, "': addresses are strings");
        if (tasks.size() <= static_cast<size_t>(idx)) tasks.resize(idx + 1);
        tasks[idx] = t.second.str;
      }
    } else {
      return InvalidArgument("cluster spec: job '", job, "' must map to a list of addresses or {index: address}");
    }
    for (size_t t = 0; t < tasks.size(); ++t)
      if (!tasks[t].empty() && tasks[t].find(':') == std::string::npos)
        return InvalidArgument("cluster spec: task ", t, " of job '", job, "' has address '", tasks[t],
                               "', expected host:port");
  }
  return Status::OK();
}

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

Status ClusterSpec::FromJson(const std::string& json, ClusterSpec* out) {
  Json j;
  RETURN_IF_ERROR(JsonParser(json).Parse(&j));
  return ClusterFromJson(j, out);
}

std::string ClusterSpec::ToJson() const {
  std::string s = "{";
  for (const auto& job : jobs) {
    if (s.size() > 1) s += ", ";
    s += Quote(job.first) + ": [";
    for (size_t t = 0; t < job.second.size(); ++t) s += (t ? ", " : "") + Quote(job.second[t]);
    s += "]";
  }
  return s + "}";
}

Status ClusterSpec::Address(const std::string& job, int task, std::string* out) const {
  auto it = jobs.find(job);
  if (it == jobs.end() || task < 0 || task >= static_cast<int>(it->second.size()) || it->second[task].empty()) {
    std::string have;
    for (const auto& j : jobs) have += StrCat(have.empty() ? "" : ", ", j.first, " (", j.second.size(), " tasks)");
    return NotFound("the cluster has no task ", TaskName(job, task), "; its jobs: ", have.empty() ? "none" : have);
  }
  *out = it->second[task];
  return Status::OK();
}

Status ParseTfConfig(const std::string& json, ClusterSpec* cluster, std::string* job, int* task) {
  Json j;
  RETURN_IF_ERROR(JsonParser(json).Parse(&j).WithPrefix("TF_CONFIG: "));
  const Json* c = j.kind == Json::kObject ? j.Get("cluster") : nullptr;
  if (!c) return InvalidArgument("TF_CONFIG has no \"cluster\"");
  RETURN_IF_ERROR(ClusterFromJson(*c, cluster).WithPrefix("TF_CONFIG: "));
  const Json* t = j.Get("task");
  if (!t || t->kind != Json::kObject) return InvalidArgument("TF_CONFIG has no \"task\": {\"type\": ..., \"index\": ...}");
  const Json* type = t->Get("type");
  const Json* index = t->Get("index");
  if (!type || type->kind != Json::kString) return InvalidArgument("TF_CONFIG: task.type must be a string");
  *job = type->str;
  *task = index && index->kind == Json::kNumber ? static_cast<int>(index->number) : 0;
  std::string addr;
  return cluster->Address(*job, *task, &addr).WithPrefix("TF_CONFIG: ");
}

std::string TaskName(const std::string& job, int task) { return StrCat("/job:", job, "/replica:0/task:", task); }

}  // namespace loom
