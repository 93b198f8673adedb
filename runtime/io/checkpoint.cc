#include "runtime/io/checkpoint.h"

#include <algorithm>
#include <cstring>

#include "loom/loom_version.h"
#include "proto/checkpoint.pb.h"
#include "runtime/graph/graphdef_proto.h"
#include "runtime/io/crc32c.h"

namespace loom {

namespace {

void PutU32(std::string* s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutU64(std::string* s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint32_t GetU32(const unsigned char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
uint64_t GetU64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

Status WriteCheckpoint(const std::string& path, std::vector<std::pair<std::string, Tensor>> tensors) {
  std::sort(tensors.begin(), tensors.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 1; i < tensors.size(); ++i)
    if (tensors[i].first == tensors[i - 1].first)
      return InvalidArgument("checkpoint: variable '", tensors[i].first, "' is given twice");

  pb::CheckpointHeader header;
  header.set_producer("loom " LOOM_VERSION_STRING);
  uint64_t offset = 0;  // relative to the data section; fixed up below
  for (const auto& kv : tensors) {
    const Tensor& t = kv.second;
    if (!t.valid()) return InvalidArgument("checkpoint: variable '", kv.first, "' has no value");
    if (!t.on_host()) return Internal("checkpoint: variable '", kv.first, "' is not in host memory");
    pb::CheckpointEntry* e = header.add_entry();
    e->set_name(kv.first);
    e->set_dtype(static_cast<pb::DataType>(t.dtype()));
    ShapeToProto(PartialShape(t.shape()), e->mutable_shape());
    e->set_offset(offset);
    e->set_size(t.byte_size());
    e->set_crc32c(crc32c::Mask(crc32c::Value(t.data(), t.byte_size())));
    offset += t.byte_size();
  }
  // Offsets are absolute; the header's own size depends on them, so settle
  // the size by iterating (varints grow by at most a few bytes).
  uint64_t header_size = header.ByteSizeLong(), data_start = 0;
  for (int iter = 0; iter < 4; ++iter) {
    data_start = kCheckpointPrefixBytes + header_size + 4;
    uint64_t off = data_start;
    for (auto& e : *header.mutable_entry()) {
      e.set_offset(off);
      off += e.size();
    }
    uint64_t s = header.ByteSizeLong();
    if (s == header_size) break;
    header_size = s;
  }
  std::string head(kCheckpointMagic, sizeof(kCheckpointMagic));
  PutU32(&head, kCheckpointFormatVersion);
  PutU64(&head, header_size);
  std::string body;
  if (!header.SerializeToString(&body) || body.size() != header_size)
    return Internal("checkpoint: header serialisation failed");
  head += body;
  PutU32(&head, crc32c::Mask(crc32c::Value(body.data(), body.size())));
  if (head.size() != data_start) return Internal("checkpoint: header layout mismatch");

  AtomicFileWriter w;
  RETURN_IF_ERROR(w.Open(path));
  RETURN_IF_ERROR(w.Append(head.data(), head.size()));
  for (const auto& kv : tensors) RETURN_IF_ERROR(w.Append(kv.second.data(), kv.second.byte_size()));
  return w.Commit();
}

Status CheckpointReader::Open(const std::string& path, std::unique_ptr<CheckpointReader>* out) {
  auto r = std::unique_ptr<CheckpointReader>(new CheckpointReader());
  RETURN_IF_ERROR(r->file_.Open(path));
  const uint64_t size = r->file_.size();
  auto loss = [&](const auto&... what) { return DataLoss("checkpoint '", path, "': ", what...); };
  unsigned char prefix[kCheckpointPrefixBytes];
  if (size < sizeof(prefix)) return loss("file is ", size, " bytes, too short to be a checkpoint");
  RETURN_IF_ERROR(r->file_.Read(0, sizeof(prefix), prefix));
  if (std::memcmp(prefix, kCheckpointMagic, sizeof(kCheckpointMagic)) != 0)
    return loss("not a Loom checkpoint (bad magic bytes)");
  uint32_t version = GetU32(prefix + 8);
  if (version != kCheckpointFormatVersion)
    return loss("format version ", version, " is not the version ", kCheckpointFormatVersion,
                " that this Loom reads (or the file is damaged)");
  uint64_t header_size = GetU64(prefix + 12);
  if (header_size > size - sizeof(prefix) || size - sizeof(prefix) - header_size < 4)
    return loss("header length ", header_size, " does not fit in the file (", size,
                " bytes): truncated or damaged");
  std::string body(header_size, '\0');
  unsigned char crc_bytes[4];
  RETURN_IF_ERROR(r->file_.Read(sizeof(prefix), header_size, body.empty() ? nullptr : &body[0]));
  RETURN_IF_ERROR(r->file_.Read(sizeof(prefix) + header_size, 4, crc_bytes));
  if (crc32c::Unmask(GetU32(crc_bytes)) != crc32c::Value(body.data(), body.size()))
    return loss("header checksum mismatch: the file is damaged");
  pb::CheckpointHeader header;
  if (!header.ParseFromString(body)) return loss("header does not parse (despite its checksum)");

  uint64_t expect = sizeof(prefix) + header_size + 4;
  for (int i = 0; i < header.entry_size(); ++i) {
    const pb::CheckpointEntry& pe = header.entry(i);
    Entry e;
    e.name = pe.name();
    const std::string what = StrCat("checkpoint '", path, "', variable '", e.name, "'");
    Status s = DataTypeFromProto(pe.dtype(), what, &e.dtype);
    if (s.ok() && e.dtype == LOOM_DTYPE_STRING) s = InvalidArgument(what, ": string tensors are unsupported");
    if (s.ok()) s = TensorShapeFromProto(pe.shape(), what, &e.shape);
    if (!s.ok()) return Status(LOOM_CODE_DATA_LOSS, s.message());
    uint64_t want = 0;
    if (__builtin_mul_overflow(static_cast<uint64_t>(e.shape.num_elements()), DataTypeSize(e.dtype), &want) ||
        pe.size() != want)
      return DataLoss(what, ": entry says ", pe.size(), " bytes but its shape ", e.shape.ToString(), " of ",
                      DataTypeName(e.dtype), " needs ", want);
    if (i > 0 && pe.name() <= header.entry(i - 1).name())
      return DataLoss(what, ": entries are not sorted by name");
    if (pe.offset() != expect)
      return DataLoss(what, ": data offset ", pe.offset(), " is not the expected ", expect);
    if (pe.size() > size || pe.offset() > size - pe.size())
      return DataLoss(what, ": data (", pe.size(), " bytes at offset ", pe.offset(),
                      ") lies past the end of the file (", size, " bytes): the checkpoint is truncated");
    e.offset = pe.offset();
    e.size = pe.size();
    e.masked_crc = pe.crc32c();
    expect = e.offset + e.size;
    r->entries_.push_back(std::move(e));
  }
  if (expect != size)
    return loss("file is ", size, " bytes but its entries end at ", expect, ": trailing data");
  *out = std::move(r);
  return Status::OK();
}

const CheckpointReader::Entry* CheckpointReader::Find(const std::string& name) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), name,
                             [](const Entry& e, const std::string& n) { return e.name < n; });
  return it != entries_.end() && it->name == name ? &*it : nullptr;
}

Status CheckpointReader::Read(const std::string& name, Tensor* out) const {
  const Entry* e = Find(name);
  if (!e) return NotFound("checkpoint '", path(), "' has no variable '", name, "'");
  Tensor t;
  RETURN_IF_ERROR(Tensor::Allocate(e->dtype, e->shape, &t));
  Status s = file_.Read(e->offset, e->size, t.data());
  if (!s.ok())
    return DataLoss("checkpoint '", path(), "', variable '", name, "': cannot read its data: ", s.message());
  if (crc32c::Unmask(e->masked_crc) != crc32c::Value(t.data(), e->size))
    return DataLoss("checkpoint '", path(), "', variable '", name,
                    "': checksum mismatch, the tensor's data is damaged");
  *out = std::move(t);
  return Status::OK();
}

}  // namespace loom
