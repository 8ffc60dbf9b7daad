//===- OpSchema.h - the ops an artifact can carry ---------------*- C++ -*-===//
//
// Ops.def as C++: an id per op, the name of every attribute (attr::k<Op><Attr>,
// so no reader spells a name again), and a table the writer, the validator
// and the docs walk.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_ARTIFACT_OPSCHEMA_H
#define GIGA_RUNTIME_ARTIFACT_OPSCHEMA_H

#include <string>
#include <string_view>
#include <vector>

namespace giga::artifact {

enum class OpId {
#define GIGA_OP(id, name, inputs, outputs) id,
#include "runtime/artifact/Ops.def"
};

enum class AttrType { Flag, Number, Integer, Integers };
const char *toString(AttrType type);

namespace attr {
#define GIGA_ATTR(op, id, name, type, meaning)                                 \
  inline constexpr char k##op##id[] = name;
#include "runtime/artifact/Ops.def"
} // namespace attr

struct AttrSchema {
  const char *name;
  AttrType type;
  const char *meaning;
};

struct OpSchema {
  OpId id;
  const char *name;
  const char *inputs;  // for people: names and shapes
  const char *outputs; // for people
  std::vector<AttrSchema> attrs;
};

/// Every op, in Ops.def's order.
const std::vector<OpSchema> &opSchemas();
/// The op named `name`, or nullptr.
const OpSchema *findOp(std::string_view name);
const OpSchema &opSchema(OpId id);
/// The op table of docs/artifact.md, as Markdown.
std::string opTableMarkdown();

} // namespace giga::artifact

#endif // GIGA_RUNTIME_ARTIFACT_OPSCHEMA_H
