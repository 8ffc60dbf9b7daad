//===- gpt.cpp - GPT-2, as gigaGPT and nanoGPT's model.py define it -------===//
//
// The forward pass and the loss, nothing else: the compiler derives the
// backward pass and the optimizer step. Read it beside nanoGPT's model.py.
//
//   x = wte[tokens] + wpe[0..T)
//   repeat depth times:   x = x + attn(ln_1(x));  x = x + mlp(ln_2(x))
//   logits = ln_f(x) @ wteᵀ            (the output head is tied to wte)
//   loss = cross_entropy(logits, targets)
//
//===----------------------------------------------------------------------===//
#include "frontend/Gpt.h"
#include "frontend/Builder.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <cmath>

using namespace mlir;

namespace giga {
namespace {

class Gpt {
public:
  Gpt(GraphBuilder &nn, const ModelConfig &model, int64_t batch,
      int64_t sequence)
      : nn(nn), m(model), B(batch), T(sequence), C(model.width), H(model.heads),
        D(model.headDim()),
        // GPT-2's scaled init of the projections that write to the residual
        // stream, so its variance does not grow with depth.
        residualStd(model.initStd / std::sqrt(2.0 * model.depth)) {}

  Value forward(Value tokens, Value targets) {
    Value wte =
        nn.param("wte.weight", {m.vocabSize, C}, Init::normal(m.initStd));
    Value wpe = nn.param("wpe.weight", {m.maxPositionEmbeddings, C},
                         Init::normal(m.initStd));
    Value x = nn.add(nn.embedding(wte, tokens), nn.embedding(wpe, nn.iota(T)));

    mask = nn.causalMask(T);
    x = nn.repeat(m.depth, "h", x, [&](Value h) { return block(h); });

    x = norm("ln_f", x);
    Value logits = nn.matmul(x, wte, /*transposeLhs=*/false,
                             /*transposeRhs=*/true);
    return nn.crossEntropy(logits, targets);
  }

private:
  // LayerNorm as GPT-2, or RMSNorm (model.norm) as later models use.
  Value norm(StringRef name, Value x) {
    return m.rmsNorm ? nn.rmsNorm(name, x, m.layerNormEpsilon)
                     : nn.layerNorm(name, x, m.layerNormEpsilon);
  }

  Value block(Value x) {
    x = nn.add(x, attention(norm("ln_1", x)));
    x = nn.add(x, mlp(norm("ln_2", x)));
    return x;
  }

  Value attention(Value x) {
    Value q = heads(nn.linear("attn.q", x, C, m.initStd));
    Value k = heads(nn.linear("attn.k", x, C, m.initStd));
    Value v = heads(nn.linear("attn.v", x, C, m.initStd));
    Value y = nn.attention(q, k, v, mask, 1.0 / std::sqrt(double(D)));
    y = nn.reshape(nn.transpose(y, {0, 2, 1, 3}), {B, T, C});
    return nn.linear("attn.proj", y, C, residualStd);
  }

  // [B, T, C] -> [B, H, T, D]
  Value heads(Value x) {
    return nn.transpose(nn.reshape(x, {B, T, H, D}), {0, 2, 1, 3});
  }

  Value mlp(Value x) {
    x = nn.linear("mlp.fc", x, m.ffnWidth, m.initStd);
    x = nn.gelu(x, m.geluTanh);
    return nn.linear("mlp.proj", x, C, residualStd);
  }

  GraphBuilder &nn;
  const ModelConfig &m;
  const int64_t B, T, C, H, D;
  const double residualStd;
  Value mask;
};

DictionaryAttr sectionAttr(Builder &builder, const nlohmann::json &section) {
  SmallVector<NamedAttribute> entries;
  for (const auto &[key, value] : section.items()) {
    Attribute attr;
    if (value.is_number_integer())
      attr = builder.getI64IntegerAttr(value.get<int64_t>());
    else if (value.is_number())
      attr = builder.getF64FloatAttr(value.get<double>());
    else
      attr = builder.getStringAttr(value.get<std::string>());
    entries.push_back(builder.getNamedAttr(key, attr));
  }
  return builder.getDictionaryAttr(entries);
}

} // namespace

OwningOpRef<ModuleOp> buildGpt(MLIRContext &context, const Config &config) {
  context.loadDialect<GigaDialect, func::FuncDialect>();
  OpBuilder builder(&context);
  Location loc = FileLineColLoc::get(&context, "gpt.cpp", 0, 0);
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  nlohmann::json json = config.toJson();
  (*module)->setAttr("giga.name", builder.getStringAttr(config.name));
  for (const char *section : {"model", "run"})
    (*module)->setAttr(std::string("giga.") + section,
                       sectionAttr(builder, json[section]));

  const RunConfig &run = config.run;
  GraphBuilder nn(builder, loc);
  auto idsType = nn.ids({run.batchSize, run.sequenceLength});
  builder.setInsertionPointToEnd(module->getBody());
  auto function = builder.create<func::FuncOp>(
      loc, "gpt", builder.getFunctionType({idsType, idsType}, {nn.f32({})}));
  function->setAttr(kLossAttr, builder.getUnitAttr());
  Block *entry = function.addEntryBlock();
  builder.setInsertionPointToStart(entry);

  Gpt gpt(nn, config.model, run.batchSize, run.sequenceLength);
  Value loss = gpt.forward(entry->getArgument(0), entry->getArgument(1));
  builder.create<func::ReturnOp>(loc, loss);
  return module;
}

} // namespace giga
