#include "runtime/dist/wire.h"

#include <algorithm>
#include <cstring>

#include "proto/worker.pb.h"
#include "runtime/plugin/registry.h"

namespace loom {

const char* WireMethodName(uint32_t m) {
  switch (m) {
    case kGetStatus: return "GetStatus";
    case kRegisterGraph: return "RegisterGraph";
    case kRunGraph: return "RunGraph";
    case kCleanupGraph: return "CleanupGraph";
    case kRecvTensor: return "RecvTensor";
    case kEndStep: return "EndStep";
    default: return "unknown method";
  }
}

Status DecodeHeader(const std::string& bytes, google::protobuf::MessageLite* msg, const char* what) {
  if (bytes.size() > kMaxHeaderBytes)
    return InvalidArgument(what, ": header of ", bytes.size(), " bytes is over the limit of ", kMaxHeaderBytes);
  if (!msg->ParseFromString(bytes)) return InvalidArgument(what, ": malformed message (", bytes.size(), " bytes)");
  return Status::OK();
}

std::string EncodeHeader(const google::protobuf::MessageLite& msg) {
  std::string s;
  msg.SerializeToString(&s);
  return s;
}

Status EncodeTensor(const Tensor& t, const std::string& name, pb::TensorMeta* meta, std::vector<Tensor>* payloads) {
  if (!t.valid()) return InvalidArgument("tensor '", name, "' has no value");
  Tensor host = t;
  if (!t.on_host()) RETURN_IF_ERROR(CopyTensor(t, nullptr, &host));
  meta->set_name(name);
  meta->set_dtype(static_cast<pb::DataType>(t.dtype()));
  for (int64_t d : t.shape().dims()) meta->add_dims(d);
  meta->set_payload(static_cast<int32_t>(payloads->size()));
  payloads->push_back(std::move(host));
  return Status::OK();
}

Status DecodeTensor(const pb::TensorMeta& meta, const std::vector<std::shared_ptr<Buffer>>& payloads,
                    const std::string& what, Tensor* out) {
  const DataType dtype = static_cast<DataType>(meta.dtype());
  if (!DataTypeIsValid(dtype)) return InvalidArgument(what, ": dtype ", meta.dtype(), " is not a tensor dtype");
  if (meta.dims_size() > kMaxTensorRank)
    return InvalidArgument(what, ": rank ", meta.dims_size(), " is over the limit of ", kMaxTensorRank);
  std::vector<int64_t> dims(meta.dims().begin(), meta.dims().end());
  const size_t elem = DataTypeSize(dtype);
  // Bytes the shape needs, without overflowing: each dim is bounded by what is left.
  uint64_t bytes = elem;
  bool empty = false;
  for (int64_t d : dims) {
    if (d < 0) return InvalidArgument(what, ": negative dimension ", d);
    if (d == 0) empty = true;
  }
  if (empty) {
    bytes = 0;
  } else {
    for (int64_t d : dims) {
      if (static_cast<uint64_t>(d) > (uint64_t{1} << 40) / std::max<uint64_t>(bytes, 1))
        return InvalidArgument(what, ": shape is too large");
      bytes *= static_cast<uint64_t>(d);
    }
  }
  if (meta.payload() < 0 || meta.payload() >= static_cast<int>(payloads.size()))
    return InvalidArgument(what, ": payload ", meta.payload(), " does not exist (the message has ", payloads.size(),
                           ")");
  const std::shared_ptr<Buffer>& buf = payloads[meta.payload()];
  if (buf->size != bytes)
    return InvalidArgument(what, ": ", DataTypeName(dtype), TensorShape(dims).ToString(), " needs ", bytes,
                           " bytes but its payload has ", buf->size);
  if (bytes == 0 || reinterpret_cast<uintptr_t>(buf->data) % elem != 0) {
    RETURN_IF_ERROR(Tensor::Allocate(dtype, TensorShape(dims), out));
    if (bytes) std::memcpy(out->data(), buf->data, bytes);
    return Status::OK();
  }
  *out = Tensor(dtype, TensorShape(std::move(dims)), buf);
  return Status::OK();
}

}  // namespace loom
