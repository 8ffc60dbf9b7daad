//===- OpSchema.cpp - the ops an artifact can carry -----------------------===//
#include "runtime/artifact/OpSchema.h"

namespace giga::artifact {

const char *toString(AttrType type) {
  switch (type) {
  case AttrType::Flag:
    return "bool";
  case AttrType::Number:
    return "f64";
  case AttrType::Integer:
    return "i64";
  case AttrType::Integers:
    return "i64 array";
  }
  return "?";
}

const std::vector<OpSchema> &opSchemas() {
  static const std::vector<OpSchema> schemas = [] {
    std::vector<OpSchema> all = {
#define GIGA_OP(id, name, inputs, outputs)                                     \
  {OpId::id, name, inputs, outputs, {}},
#include "runtime/artifact/Ops.def"
    };
#define GIGA_ATTR(op, id, name, type, meaning)                                 \
  all[size_t(OpId::op)].attrs.push_back({name, AttrType::type, meaning});
#include "runtime/artifact/Ops.def"
    return all;
  }();
  return schemas;
}

const OpSchema *findOp(std::string_view name) {
  for (const OpSchema &schema : opSchemas())
    if (name == schema.name)
      return &schema;
  return nullptr;
}

const OpSchema &opSchema(OpId id) { return opSchemas()[size_t(id)]; }

std::string opTableMarkdown() {
  std::string table = "| op | inputs | outputs | attrs |\n|---|---|---|---|\n";
  for (const OpSchema &op : opSchemas()) {
    std::string attrs;
    for (const AttrSchema &attr : op.attrs)
      attrs += std::string(attrs.empty() ? "" : "; ") + "`" + attr.name +
               "` (" + toString(attr.type) + "): " + attr.meaning;
    table += std::string("| `") + op.name + "` | " + op.inputs + " | " +
             op.outputs + " | " + attrs + " |\n";
  }
  return table;
}

} // namespace giga::artifact
