//===- Inspect.cpp - gigarun inspect: an artifact, readable ---------------===//
#include "Inspect.h"

#include "runtime/artifact/GenerationEntryPoints.h"
#include "runtime/artifact/Report.h"
#include "runtime/train/Checkpoint.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ostream>
#include <vector>

namespace giga::tools {

using artifact::Artifact;
using nlohmann::json;

namespace {

/// Columns padded to their widest cell; numbers right-aligned.
class Table {
public:
  explicit Table(std::vector<std::string> header) { rows.push_back(header); }
  void add(std::vector<std::string> row) { rows.push_back(std::move(row)); }
  void print(std::ostream &out, const std::string &indent = "  ") const {
    std::vector<size_t> widths;
    for (const auto &row : rows)
      for (size_t i = 0; i < row.size(); ++i) {
        widths.resize(std::max(widths.size(), row.size()));
        widths[i] = std::max(widths[i], row[i].size());
      }
    for (const auto &row : rows) {
      std::string line = indent;
      for (size_t i = 0; i < row.size(); ++i) {
        const std::string &cell = row[i];
        bool number = !cell.empty() &&
                      (std::isdigit(static_cast<unsigned char>(cell[0])) ||
                       (cell[0] == '-' && cell.size() > 1 &&
                        std::isdigit(static_cast<unsigned char>(cell[1]))));
        std::string pad(widths[i] - cell.size(), ' ');
        line += number ? pad + cell : cell + pad;
        if (i + 1 < row.size())
          line += "  ";
      }
      while (!line.empty() && line.back() == ' ')
        line.pop_back();
      out << line << "\n";
    }
  }

private:
  std::vector<std::vector<std::string>> rows;
};

std::string number(double value, const char *format = "%.4g") {
  char text[64];
  std::snprintf(text, sizeof(text), format, value);
  return text;
}

/// 1234567 -> "1,234,567".
std::string grouped(int64_t value) {
  std::string digits = std::to_string(value < 0 ? -value : value), text;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0)
      text += ',';
    text += digits[i];
  }
  return (value < 0 ? "-" : "") + text;
}

std::string bytesText(double bytes) {
  const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  return unit ? number(bytes, "%.1f") + " " + units[unit]
              : number(bytes, "%.0f") + " B";
}

std::string scalar(const json &value) {
  if (value.is_string())
    return value.get<std::string>();
  return value.dump();
}

/// "key=value, key=value" of an object's scalar members.
std::string keyValues(const json &object) {
  std::string text;
  for (auto &[key, value] : object.items()) {
    if (value.is_object())
      continue;
    text += (text.empty() ? "" : ", ") + key + "=" + scalar(value);
  }
  return text;
}

/// A JSON tree as indented "key: value" lines.
void printTree(const json &value, std::ostream &out,
               const std::string &indent) {
  for (auto &[key, child] : value.items()) {
    if (child.is_object()) {
      out << indent << key << ":\n";
      printTree(child, out, indent + "  ");
    } else if (child.is_array() && !child.empty() && child[0].is_object()) {
      out << indent << key << ":\n";
      for (size_t i = 0; i < child.size(); ++i) {
        out << indent << "  [" << i << "] " << keyValues(child[i]) << "\n";
      }
    } else {
      out << indent << key << ": " << scalar(child) << "\n";
    }
  }
}

void printOptimizer(const artifact::Optimizer &o, std::ostream &out) {
  out << "optimizer  " << o.kind << ": lr " << number(o.learningRate)
      << ", warmup " << o.warmupSteps << ", decay " << o.decaySteps
      << " steps to " << number(o.minLrRatio) << " x lr";
  if (o.kind == "adamw")
    out << ", betas (" << number(o.beta1) << ", " << number(o.beta2)
        << "), eps " << number(o.epsilon);
  else
    out << ", momentum " << number(o.momentum);
  out << ", clip at global norm " << number(o.maxGradientNorm) << "\n";
}

} // namespace

void inspectArtifact(const Artifact &a, const std::string &path,
                     int64_t fileBytes, std::ostream &out) {
  out << "artifact   " << path << " (format " << artifact::kFormatVersion
      << ", " << bytesText(double(fileBytes)) << ", program "
      << train::artifactChecksum(a) << ")\n";
  if (a.config.contains("name"))
    out << "name       " << scalar(a.config["name"]) << "\n";
  for (auto &[section, value] : a.config.items())
    if (value.is_object())
      out << (section + ":")
                 .append(std::max<size_t>(11, section.size() + 2) -
                             section.size() - 1,
                         ' ')
          << keyValues(value) << "\n";
  if (a.target.is_object() && !a.target.empty())
    out << "target     " << keyValues(a.target) << "\n";
  // A generation artifact has no batch schedule and no optimizer: its
  // entry points and its state are what there is to say.
  const bool generates = a.entryPoint(artifact::generation::kPrefill) &&
                         a.entryPoint(artifact::generation::kDecode);
  if (generates) {
    auto shape = artifact::generation::contract(a, path);
    int64_t stateBytes = 0;
    for (const artifact::Buffer &b : a.buffers)
      stateBytes += b.state ? b.totalBytes() : 0;
    out << "generate   batch " << shape.batch << ", prefill chunk "
        << shape.chunk << ", context " << shape.context << " tokens; KV cache "
        << bytesText(double(stateBytes)) << " (state kept between calls)\n";
  } else {
    out << "batch      " << a.batchSize << " samples = "
        << (a.systems > 1 ? std::to_string(a.systems) + " systems x " : "")
        << "micro-batch " << a.microBatch << " x " << a.accumulation()
        << " accumulation step" << (a.accumulation() == 1 ? "" : "s")
        << "; sequence length " << a.sequenceLength << "\n";
    if (a.systems > 1)
      out << "systems    " << a.systems << " (data parallel: mpirun -np "
          << a.systems << " gigarun ...)\n";
    printOptimizer(a.optimizer, out);
  }

  out << "\nparameters (" << a.params.size() << " tensors, "
      << grouped(a.parameterCount()) << " parameters, "
      << bytesText(4.0 * double(a.parameterCount())) << " fp32)\n";
  Table params({"name", "group", "layers", "shape", "per layer", "count",
                "init", "std", "decay"});
  for (const artifact::Parameter &p : a.params)
    params.add({p.group.empty() ? p.name : p.group + ".*." + p.name,
                p.group.empty() ? "-" : p.group, std::to_string(p.layers),
                artifact::formatShape(p.shape), grouped(p.elements()),
                grouped(p.elements() * p.layers), p.init,
                p.init == "normal" ? number(p.std) : "-",
                number(p.weightDecay)});
  params.add(
      {"total", "", "", "", "", grouped(a.parameterCount()), "", "", ""});
  params.print(out);

  out << "\nbuffers (" << a.buffers.size() << ", arena "
      << grouped(a.arenaBytes) << " bytes = " << bytesText(double(a.arenaBytes))
      << ")\n";
  Table buffers(
      {"#", "name", "dtype", "shape", "layers", "offset", "bytes", "role"});
  for (size_t i = 0; i < a.buffers.size(); ++i) {
    const artifact::Buffer &b = a.buffers[i];
    // The entry points' names for it (tokens, loss, ...), each once.
    std::string role = b.state ? "state" : "";
    for (const artifact::EntryPoint &entry : a.entryPoints)
      for (const auto *list : {&entry.inputs, &entry.outputs})
        for (const artifact::Binding &binding : *list)
          if (binding.buffer == int32_t(i) &&
              (" " + role + " ").find(" " + binding.name + " ") ==
                  std::string::npos)
            role += (role.empty() ? "" : " ") + binding.name;
    buffers.add({std::to_string(i), b.name, artifact::toString(b.type.dtype),
                 artifact::formatShape(b.type.shape),
                 b.layers ? std::to_string(b.layers) : "-", grouped(b.offset),
                 grouped(b.totalBytes()), role});
  }
  buffers.print(out);

  out << "\nentry points (" << a.entryPoints.size() << ")\n";
  for (const artifact::EntryPoint &entry : a.entryPoints) {
    auto bindings = [&](const std::vector<artifact::Binding> &list) {
      std::string text;
      for (const artifact::Binding &b : list) {
        const artifact::Buffer &buffer = a.buffers[b.buffer];
        text += (text.empty() ? "" : ", ") + b.name + " " +
                artifact::toString(buffer.type.dtype) + " " +
                artifact::formatShape(buffer.type.shape) +
                (b.limit > 0 ? " in [0, " + grouped(b.limit) + ")" : "");
      }
      return text.empty() ? std::string("-") : text;
    };
    std::string commands;
    for (const artifact::Command &c : entry.commands)
      commands += (commands.empty() ? "" : ", ") + a.kernels[c.kernel].name;
    out << "  " << entry.name << "(" << bindings(entry.inputs) << ") -> "
        << bindings(entry.outputs)
        << "\n      invokes: " << (commands.empty() ? "-" : commands) << "\n";
  }

  out << "\nkernels (" << a.kernels.size() << ", run in order "
      << (generates ? "by the entry points that invoke them"
                    : "per micro-batch")
      << ")\n";
  double totalFlops = 0;
  for (size_t i = 0; i < a.kernels.size(); ++i) {
    const artifact::Kernel &k = a.kernels[i];
    out << "  [" << i << "] " << k.name << ": "
        << (k.backward ? "backward" : "forward") << ", " << k.layers
        << (k.layers == 1 ? " layer" : " layers")
        << (k.group.empty() ? "" : " of group " + k.group)
        << (k.reverse ? ", reverse" : "") << "; stream-in " << k.streamIn.size()
        << ", stream-out " << k.streamOut.size() << ", carry " << k.carry.size()
        << ", " << k.ops.size() << " ops\n";
    std::string ops;
    for (const artifact::Op &op : k.ops)
      ops += (ops.empty() ? "" : ", ") + op.kernel;
    out << "      ops: " << ops << "\n";
    std::string ins, outs;
    auto paramName = [&](int32_t index) {
      const artifact::Parameter &p = a.params[index];
      return p.group.empty() ? p.name : p.group + ".*." + p.name;
    };
    for (const artifact::StreamIn &s : k.streamIn)
      ins += (ins.empty() ? "" : ", ") + paramName(s.param);
    for (const artifact::StreamOut &s : k.streamOut)
      outs += (outs.empty() ? "" : ", ") + paramName(s.param);
    if (!ins.empty())
      out << "      stream-in: " << ins << "\n";
    if (!outs.empty())
      out << "      stream-out: " << outs << "\n";
    const artifact::Placement &p = k.placement;
    out << "      placement: " << grouped(p.pes) << " PEs, "
        << bytesText(double(p.sramBytes)) << " SRAM, " << number(p.flops)
        << " FLOPs, " << number(p.computeCycles) << " compute cycles, "
        << number(p.streamCycles) << " stream cycles, "
        << bytesText(double(p.streamBytes)) << " streamed (per invocation)\n";
    totalFlops += p.flops * double(k.layers);
  }
  if (generates)
    out << "  every kernel once: " << number(totalFlops)
        << " FLOPs (placement)\n";
  else
    out << "  per micro-batch: " << number(totalFlops) << " FLOPs (placement); "
        << "per step: "
        << number(totalFlops * double(a.accumulation() * a.systems))
        << " FLOPs; model FLOPs per step "
        << number(a.modelFlopsPerStep, "%.0f") << "\n";

  out << "\nreport\n";
  if (a.report.is_object() &&
      (a.report.contains("kernels") || a.report.contains("totals"))) {
    // gigac's cost model, as `gigac --report` prints it.
    try {
      std::string text = artifact::formatReport(a);
      out << text << (text.empty() || text.back() == '\n' ? "" : "\n");
      return;
    } catch (const nlohmann::json::exception &) {
      // A report of another shape: print it as it is.
    }
  }
  if (a.report.is_object() && !a.report.empty())
    printTree(a.report, out, "  ");
  else
    out << "  (none)\n";
}

} // namespace giga::tools
