// The C API of models that travel: GraphDef import/export, checkpoints and
// model directories. Conversions and status only; the work is in
// runtime/graph/graphdef.cc and runtime/io/.
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "capi/src/c_api_internal.h"
#include "loom/loom.h"
#include "runtime/core/c_status.h"
#include "runtime/graph/graphdef.h"
#include "runtime/io/checkpoint.h"
#include "runtime/io/model.h"
#include "runtime/io/saver.h"
#include "runtime/ops/op_registry.h"
#include "runtime/plugin/c_gradient.h"
#include "runtime/plugin/registry.h"
#include "runtime/session/session.h"

using namespace loom;  // NOLINT: this file is the boundary

struct loom_import_options {
  ImportOptions o;
};
struct loom_checkpoint {
  std::unique_ptr<CheckpointReader> r;
};
struct loom_signatures {
  Signatures sigs;
  // Flattened, sorted views for index-based access, rebuilt after changes.
  mutable bool dirty = true;
  mutable std::vector<std::string> names;
  mutable std::vector<std::vector<std::pair<std::string, std::string>>> parts[3];
};

namespace {

Status Names(const char* const* names, int num_names, std::vector<std::string>* out) {
  if (!names) return Status::OK();
  if (num_names < 0) return InvalidArgument("num_names is negative (", num_names, ")");
  for (int i = 0; i < num_names; ++i) {
    if (!names[i]) return InvalidArgument("names[", i, "] is NULL");
    out->push_back(names[i]);
  }
  if (out->empty()) return InvalidArgument("names is not NULL but num_names is 0 (pass NULL for all variables)");
  return Status::OK();
}

std::string TensorName(loom_output o) {
  return StrCat(FromC(o.op)->name(), ":", o.index);
}

void Rebuild(const loom_signatures* s) {
  if (!s->dirty) return;
  s->names.clear();
  for (auto& p : s->parts) p.clear();
  for (const auto& kv : s->sigs) {
    s->names.push_back(kv.first);
    s->parts[LOOM_SIGNATURE_INPUTS].emplace_back(kv.second.inputs.begin(), kv.second.inputs.end());
    s->parts[LOOM_SIGNATURE_OUTPUTS].emplace_back(kv.second.outputs.begin(), kv.second.outputs.end());
    std::vector<std::pair<std::string, std::string>> targets;
    for (const auto& t : kv.second.targets) targets.emplace_back("", t);
    s->parts[LOOM_SIGNATURE_TARGETS].push_back(std::move(targets));
  }
  s->dirty = false;
}

}  // namespace

extern "C" {

// ------------------------------------------------------------------ GraphDef

loom_status* loom_graph_to_graphdef(const loom_graph* graph, int format, char** out_data, size_t* out_len) {
  return Guard([&]() -> loom_status* {
    if (!graph || !out_data || !out_len)
      return ToCStatus(InvalidArgument("loom_graph_to_graphdef: graph, out_data or out_len is NULL"));
    if (format != LOOM_GRAPHDEF_BINARY && format != LOOM_GRAPHDEF_TEXT)
      return ToCStatus(InvalidArgument("loom_graph_to_graphdef: unknown format ", format,
                                       " (LOOM_GRAPHDEF_BINARY or LOOM_GRAPHDEF_TEXT)"));
    std::string bytes;
    Status s = ExportGraphDef(*FromC(graph), static_cast<GraphDefFormat>(format), &bytes);
    if (!s.ok()) return ToCStatus(s);
    char* out = static_cast<char*>(std::malloc(bytes.size() + 1));
    if (!out) return ToCStatus(ResourceExhausted("out of memory for a ", bytes.size(), "-byte GraphDef"));
    if (!bytes.empty()) std::memcpy(out, bytes.data(), bytes.size());
    out[bytes.size()] = '\0';
    *out_data = out;
    *out_len = bytes.size();
    return nullptr;
  });
}

loom_import_options* loom_import_options_new(void) { return new (std::nothrow) loom_import_options(); }
void loom_import_options_free(loom_import_options* o) { delete o; }
void loom_import_options_set_format(loom_import_options* o, int format) {
  if (o) o->o.format = format == LOOM_GRAPHDEF_TEXT ? GraphDefFormat::kText : GraphDefFormat::kBinary;
}
void loom_import_options_set_prefix(loom_import_options* o, const char* prefix) {
  if (o) o->o.prefix = prefix ? prefix : "";
}
void loom_import_options_set_default_device(loom_import_options* o, const char* device) {
  if (o) o->o.default_device = device ? device : "";
}
void loom_import_options_set_clear_devices(loom_import_options* o, int clear) {
  if (o) o->o.clear_devices = clear != 0;
}
void loom_import_options_add_input_mapping(loom_import_options* o, const char* src_name, int src_index,
                                           loom_output dst) {
  if (o && src_name) o->o.input_map[{src_name, src_index}] = FromC(dst);
}
void loom_import_options_add_control_mapping(loom_import_options* o, const char* src_name, loom_op* dst) {
  if (o && src_name) o->o.control_map[src_name] = FromC(dst);
}
void loom_import_options_set_max_tensor_bytes(loom_import_options* o, int64_t bytes) {
  if (o) o->o.max_tensor_bytes = bytes < 0 ? 0 : bytes;
}

loom_status* loom_graph_import_graphdef(loom_graph* graph, const void* data, size_t len,
                                        const loom_import_options* options) {
  return Guard([&]() -> loom_status* {
    if (!graph) return ToCStatus(InvalidArgument("loom_graph_import_graphdef: graph is NULL"));
    Registry::Get();  // plugins may register ops
    static const ImportOptions kDefaults;
    return ToCStatus(ImportGraphDef(data, len, options ? options->o : kDefaults, FromC(graph)));
  });
}

// ------------------------------------------------------------------ checkpoints

loom_status* loom_session_save(loom_session* session, const char* path, const char* const* names,
                               int num_names) {
  return Guard([&]() -> loom_status* {
    if (!session || !path) return ToCStatus(InvalidArgument("loom_session_save: session or path is NULL"));
    InFlight guard(session);
    std::vector<std::string> v;
    Status s = Names(names, num_names, &v);
    if (s.ok()) s = SaveVariables(session->s.get(), path, v);
    return ToCStatus(s);
  });
}

loom_status* loom_session_restore(loom_session* session, const char* path, const char* const* names,
                                  int num_names) {
  return Guard([&]() -> loom_status* {
    if (!session || !path) return ToCStatus(InvalidArgument("loom_session_restore: session or path is NULL"));
    InFlight guard(session);
    std::vector<std::string> v;
    Status s = Names(names, num_names, &v);
    if (s.ok()) s = RestoreVariables(session->s.get(), path, v);
    return ToCStatus(s);
  });
}

loom_status* loom_checkpoint_open(const char* path, loom_checkpoint** out) {
  return Guard([&]() -> loom_status* {
    if (!path || !out) return ToCStatus(InvalidArgument("loom_checkpoint_open: path or out is NULL"));
    auto c = std::make_unique<loom_checkpoint>();
    Status s = CheckpointReader::Open(path, &c->r);
    if (!s.ok()) return ToCStatus(s);
    *out = c.release();
    return nullptr;
  });
}
void loom_checkpoint_free(loom_checkpoint* c) { delete c; }

static const CheckpointReader::Entry* EntryAt(const loom_checkpoint* c, int i) {
  if (!c || i < 0 || i >= static_cast<int>(c->r->entries().size())) return nullptr;
  return &c->r->entries()[i];
}
int loom_checkpoint_num_variables(const loom_checkpoint* c) {
  return c ? static_cast<int>(c->r->entries().size()) : 0;
}
const char* loom_checkpoint_variable_name(const loom_checkpoint* c, int i) {
  const auto* e = EntryAt(c, i);
  return e ? e->name.c_str() : nullptr;
}
loom_dtype loom_checkpoint_variable_dtype(const loom_checkpoint* c, int i) {
  const auto* e = EntryAt(c, i);
  return e ? e->dtype : LOOM_DTYPE_INVALID;
}
int loom_checkpoint_variable_num_dims(const loom_checkpoint* c, int i) {
  const auto* e = EntryAt(c, i);
  return e ? e->shape.rank() : -1;
}
int64_t loom_checkpoint_variable_dim(const loom_checkpoint* c, int i, int d) {
  const auto* e = EntryAt(c, i);
  return e && d >= 0 && d < e->shape.rank() ? e->shape.dim(d) : -1;
}
loom_status* loom_checkpoint_read(const loom_checkpoint* c, const char* name, loom_tensor** out) {
  return Guard([&]() -> loom_status* {
    if (!c || !name || !out) return ToCStatus(InvalidArgument("loom_checkpoint_read: NULL argument"));
    Tensor t;
    Status s = c->r->Read(name, &t);
    if (!s.ok()) return ToCStatus(s);
    *out = new loom_tensor{std::move(t)};
    return nullptr;
  });
}

// ------------------------------------------------------------------ model directories

loom_signatures* loom_signatures_new(void) { return new (std::nothrow) loom_signatures(); }
void loom_signatures_free(loom_signatures* s) { delete s; }
void loom_signatures_add_input(loom_signatures* s, const char* sig, const char* key, loom_output o) {
  if (!s || !sig || !key || !o.op) return;
  s->sigs[sig].inputs[key] = TensorName(o);
  s->dirty = true;
}
void loom_signatures_add_output(loom_signatures* s, const char* sig, const char* key, loom_output o) {
  if (!s || !sig || !key || !o.op) return;
  s->sigs[sig].outputs[key] = TensorName(o);
  s->dirty = true;
}
void loom_signatures_add_target(loom_signatures* s, const char* sig, loom_op* op) {
  if (!s || !sig || !op) return;
  s->sigs[sig].targets.push_back(FromC(op)->name());
  s->dirty = true;
}
int loom_signatures_count(const loom_signatures* s) { return s ? static_cast<int>(s->sigs.size()) : 0; }
const char* loom_signatures_name(const loom_signatures* s, int i) {
  if (!s || i < 0 || i >= static_cast<int>(s->sigs.size())) return nullptr;
  Rebuild(s);
  return s->names[i].c_str();
}
int loom_signatures_num_entries(const loom_signatures* s, int i, int part) {
  if (!s || i < 0 || i >= static_cast<int>(s->sigs.size()) || part < 0 || part > 2) return 0;
  Rebuild(s);
  return static_cast<int>(s->parts[part][i].size());
}
loom_status* loom_signatures_entry(const loom_signatures* s, int i, int part, int j, const char** out_key,
                                   const char** out_name) {
  if (!s || !out_key || !out_name) return ToCStatus(InvalidArgument("loom_signatures_entry: NULL argument"));
  if (i < 0 || i >= static_cast<int>(s->sigs.size()) || part < 0 || part > 2)
    return ToCStatus(OutOfRange("signature ", i, " or part ", part, " out of range"));
  Rebuild(s);
  const auto& entries = s->parts[part][i];
  if (j < 0 || j >= static_cast<int>(entries.size()))
    return ToCStatus(OutOfRange("entry ", j, " out of range (", entries.size(), " entries)"));
  *out_key = entries[j].first.c_str();
  *out_name = entries[j].second.c_str();
  return nullptr;
}

loom_status* loom_model_save(loom_session* session, const char* dir, const loom_signatures* sigs) {
  return Guard([&]() -> loom_status* {
    if (!session || !dir || !*dir) return ToCStatus(InvalidArgument("loom_model_save: session or dir is NULL"));
    InFlight guard(session);
    static const Signatures kNone;
    return ToCStatus(SaveModel(session->s.get(), dir, sigs ? sigs->sigs : kNone));
  });
}

loom_status* loom_model_load(const char* dir, loom_graph* graph, const loom_session_options* options,
                             loom_session** out_session, loom_signatures** out_signatures) {
  return Guard([&]() -> loom_status* {
    if (!dir || !graph || !out_session)
      return ToCStatus(InvalidArgument("loom_model_load: dir, graph or out_session is NULL"));
    Registry::Get();
    auto sigs = std::make_unique<loom_signatures>();
    std::string checkpoint;
    Status s = LoadModel(dir, FromC(graph), &sigs->sigs, &checkpoint);
    if (!s.ok()) return ToCStatus(s);
    loom_session* session = nullptr;
    loom_status* st = loom_session_new(graph, options, &session);
    if (st) return st;
    if (!checkpoint.empty()) {
      s = RestoreVariables(session->s.get(), checkpoint, {});
      if (!s.ok()) {
        loom_session_free(session);
        return ToCStatus(s.WithPrefix("model '" + std::string(dir) + "': "));
      }
    }
    *out_session = session;
    if (out_signatures) *out_signatures = sigs.release();
    return nullptr;
  });
}

// ------------------------------------------------------------------ op schemas

static std::string ArgSpec(const ArgDef& a) {
  std::string base = a.type_attr.empty() ? std::string(DataTypeName(a.type)) : a.type_attr;
  std::string spec = !a.type_list_attr.empty() ? "list:" + a.type_list_attr
                     : !a.number_attr.empty()  ? a.number_attr + "*" + base
                                               : base;
  return spec + (a.is_ref ? " ref" : "");
}

char* loom_op_type_schema(const char* op_type) {
  try {
    if (!op_type) return nullptr;
    Registry::Get();  // plugins may register ops
    const OpDef* def = OpRegistry::Global()->Find(op_type);
    if (!def) return nullptr;
    std::string s = StrCat("op ", def->name, "\nstateful ", def->is_stateful ? 1 : 0, "\n");
    for (const ArgDef& a : def->inputs) s += StrCat("input ", a.name, " ", ArgSpec(a), "\n");
    for (const ArgDef& a : def->outputs) s += StrCat("output ", a.name, " ", ArgSpec(a), "\n");
    for (const AttrDef& a : def->attrs) {
      s += StrCat("attr ", a.name, " ", a.type, " ", a.has_default ? 1 : 0);
      if (a.has_minimum) s += StrCat(" min=", a.minimum);
      if (a.has_allowed) {
        s += " allowed=";
        for (size_t i = 0; i < a.allowed.size(); ++i) s += StrCat(i ? "," : "", DataTypeName(a.allowed[i]));
      }
      s += "\n";
    }
    char* out = static_cast<char*>(std::malloc(s.size() + 1));
    if (out) std::memcpy(out, s.c_str(), s.size() + 1);
    return out;
  } catch (...) {
    return nullptr;
  }
}

}  // extern "C"
