#include "runtime/io/model.h"

#include "loom/loom_version.h"
#include "proto/model.pb.h"
#include "runtime/graph/graphdef_proto.h"
#include "runtime/io/file.h"
#include "runtime/io/saver.h"

namespace loom {

namespace {
constexpr uint64_t kMaxModelFileBytes = uint64_t{1} << 31;  // protobuf's limit
}  // namespace

Status ResolveTensorName(const Graph& g, const std::string& name, Output* out) {
  std::string op = name;
  int index = 0;
  size_t colon = name.rfind(':');
  if (colon != std::string::npos) {
    std::string idx = name.substr(colon + 1);
    if (idx.empty() || idx.size() > 9 || idx.find_first_not_of("0123456789") != std::string::npos)
      return InvalidArgument("malformed tensor name '", name, "' (expected \"op:index\")");
    index = std::stoi(idx);
    op = name.substr(0, colon);
  }
  Node* n = g.FindNode(op);
  if (!n) return NotFound("tensor '", name, "': the graph has no op '", op, "'");
  if (index >= n->num_outputs())
    return OutOfRange("tensor '", name, "': ", n->DebugString(), " has ", n->num_outputs(), " outputs");
  *out = Output{n, index};
  return Status::OK();
}

Status SaveModel(Session* session, const std::string& dir, const Signatures& signatures) {
  const Graph& g = *session->graph();
  pb::ModelDef model;
  model.set_format_version(1);
  model.set_producer("loom " LOOM_VERSION_STRING);
  GraphToGraphDef(g, model.mutable_graph());
  for (const auto& sig : signatures) {  // sorted by name
    pb::ModelDef::SignatureEntry* se = model.add_signatures();
    se->set_key(sig.first);
    pb::SignatureDef& sd = *se->mutable_value();
    auto fill = [&](const std::map<std::string, std::string>& from,
                    google::protobuf::RepeatedPtrField<pb::SignatureDef::Entry>* to) -> Status {
      for (const auto& kv : from) {
        Output o;
        RETURN_IF_ERROR(ResolveTensorName(g, kv.second, &o)
                            .WithPrefix(StrCat("signature '", sig.first, "', key '", kv.first, "': ")));
        pb::SignatureDef::Entry* entry = to->Add();
        entry->set_key(kv.first);
        pb::TensorInfo& ti = *entry->mutable_value();
        ti.set_name(StrCat(o.node->name(), ":", o.index));
        ti.set_dtype(static_cast<pb::DataType>(o.node->output_dtype(o.index)));
        ShapeToProto(o.node->output_shape(o.index), ti.mutable_shape());
      }
      return Status::OK();
    };
    RETURN_IF_ERROR(fill(sig.second.inputs, sd.mutable_inputs()));
    RETURN_IF_ERROR(fill(sig.second.outputs, sd.mutable_outputs()));
    for (const std::string& t : sig.second.targets) {
      if (!g.FindNode(t)) return NotFound("signature '", sig.first, "': target op '", t, "' is not in the graph");
      sd.add_targets(t);
    }
  }
  RETURN_IF_ERROR(CreateDirs(dir));
  if (!GraphVariables(g).empty()) {
    model.set_checkpoint(kModelCheckpointFile);
    RETURN_IF_ERROR(SaveVariables(session, dir + "/" + kModelCheckpointFile, {}));
  }
  std::string bytes;
  if (!SerializeDeterministic(model, &bytes)) return Internal("model: serialisation failed");
  return WriteFileAtomically(dir + "/" + kModelFile, bytes);
}

Status LoadModel(const std::string& dir, Graph* g, Signatures* signatures, std::string* checkpoint) {
  std::string bytes;
  const std::string path = dir + "/" + kModelFile;
  RETURN_IF_ERROR(ReadFile(path, kMaxModelFileBytes, &bytes));
  pb::ModelDef model;
  if (!model.ParseFromString(bytes)) return DataLoss("model '", path, "' does not parse: damaged or not a model");
  if (model.format_version() != 1)
    return InvalidArgument("model '", path, "' has format version ", model.format_version(),
                           "; this Loom reads version 1");
  const std::string& ck = model.checkpoint();
  if (ck.find('/') != std::string::npos || ck == "..")
    return InvalidArgument("model '", path, "': checkpoint '", ck, "' must be a file name inside the directory");
  Signatures sigs;
  for (const auto& kv : model.signatures()) {
    Signature& s = sigs[kv.key()];
    for (const auto& in : kv.value().inputs()) s.inputs[in.key()] = in.value().name();
    for (const auto& out : kv.value().outputs()) s.outputs[out.key()] = out.value().name();
    s.targets.assign(kv.value().targets().begin(), kv.value().targets().end());
  }
  RETURN_IF_ERROR(ImportGraphDefProto(model.graph(), ImportOptions(), g, nullptr)
                      .WithPrefix("model '" + path + "': "));
  for (const auto& sig : sigs) {
    Output o;
    for (const auto* m : {&sig.second.inputs, &sig.second.outputs})
      for (const auto& kv : *m)
        RETURN_IF_ERROR(ResolveTensorName(*g, kv.second, &o)
                            .WithPrefix(StrCat("model '", path, "', signature '", sig.first, "': ")));
  }
  *signatures = std::move(sigs);
  *checkpoint = ck.empty() ? std::string() : dir + "/" + ck;
  return Status::OK();
}

}  // namespace loom
