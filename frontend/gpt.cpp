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
// Generation runs the same model on a chunk of new tokens at a position,
// with each layer's keys and values kept in a KV cache, as nanoGPT's
// sample.py would with a cache: only the last position's logits come out.
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
  /// A chunk of `sequence` tokens per sample; generation attends over a KV
  /// cache of `context` positions (0: training, no cache).
  Gpt(GraphBuilder &nn, const ModelConfig &model, int64_t batch,
      int64_t sequence, int64_t context = 0)
      : nn(nn), m(model), B(batch), T(sequence), C(model.width), H(model.heads),
        D(model.headDim()), context(context),
        // GPT-2's scaled init of the projections that write to the residual
        // stream, so its variance does not grow with depth.
        residualStd(model.initStd / std::sqrt(2.0 * model.depth)) {}

  Value forward(Value tokens, Value targets) {
    Value x = embed(tokens, nn.iota(T));
    mask = nn.causalMask(T);
    return nn.crossEntropy(head(blocks(x)), targets);
  }

  /// The logits [B, V] that follow a chunk of tokens [B, T] at positions
  /// start.. (an i32 [1]); earlier positions' keys and values are cached.
  Value nextLogits(Value tokens, Value start) {
    this->start = start;
    Value x = embed(tokens, nn.positions(start, T));
    mask = nn.positionMask(start, T, context);
    x = blocks(x);
    if (T > 1)
      x = nn.slice(x, /*axis=*/1, /*start=*/T - 1, /*size=*/1);
    return nn.reshape(head(x), {B, m.vocabSize});
  }

private:
  Value embed(Value tokens, Value positions) {
    wte = nn.param("wte.weight", {m.vocabSize, C}, Init::normal(m.initStd));
    Value wpe = nn.param("wpe.weight", {m.maxPositionEmbeddings, C},
                         Init::normal(m.initStd));
    return nn.add(nn.embedding(wte, tokens), nn.embedding(wpe, positions));
  }

  Value blocks(Value x) {
    return nn.repeat(m.depth, "h", x, [&](Value h) { return block(h); });
  }

  Value head(Value x) {
    return nn.matmul(norm("ln_f", x), wte, /*transposeLhs=*/false,
                     /*transposeRhs=*/true);
  }

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
    if (context > 0) {
      k = nn.kvCache("attn.keys", k, start, context);
      v = nn.kvCache("attn.values", v, start, context);
    }
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
  const int64_t B, T, C, H, D, context;
  const double residualStd;
  Value wte, mask, start;
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

/// A module holding the config as attributes, and the builder at its end.
OwningOpRef<ModuleOp> newModule(OpBuilder &builder, const Config &config) {
  Location loc = FileLineColLoc::get(builder.getContext(), "gpt.cpp", 0, 0);
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  nlohmann::json json = config.toJson();
  (*module)->setAttr("giga.name", builder.getStringAttr(config.name));
  for (const char *section : {"model", "run"})
    (*module)->setAttr(std::string("giga.") + section,
                       sectionAttr(builder, json[section]));
  builder.setInsertionPointToEnd(module->getBody());
  return module;
}

} // namespace

OwningOpRef<ModuleOp> buildGpt(MLIRContext &context, const Config &config) {
  context.loadDialect<GigaDialect, func::FuncDialect>();
  OpBuilder builder(&context);
  OwningOpRef<ModuleOp> module = newModule(builder, config);
  Location loc = module->getLoc();
  const RunConfig &run = config.run;
  GraphBuilder nn(builder, loc);
  // One system's share: the systems run the same step on their own samples.
  const int64_t batch = run.batchSize / run.numSystems;
  auto idsType = nn.ids({batch, run.sequenceLength});
  auto function = builder.create<func::FuncOp>(
      loc, "gpt", builder.getFunctionType({idsType, idsType}, {nn.f32({})}));
  function->setAttr(kLossAttr, builder.getUnitAttr());
  Block *entry = function.addEntryBlock();
  builder.setInsertionPointToStart(entry);

  Gpt gpt(nn, config.model, batch, run.sequenceLength);
  Value loss = gpt.forward(entry->getArgument(0), entry->getArgument(1));
  builder.create<func::ReturnOp>(loc, loss);
  return module;
}

OwningOpRef<ModuleOp> buildGptGenerator(MLIRContext &context,
                                        const Config &config,
                                        const GenerationShape &shape) {
  context.loadDialect<GigaDialect, func::FuncDialect>();
  OpBuilder builder(&context);
  OwningOpRef<ModuleOp> module = newModule(builder, config);
  Location loc = module->getLoc();
  GraphBuilder nn(builder, loc);
  const ModelConfig &model = config.model;
  (*module)->setAttr(kContextAttr, builder.getI64IntegerAttr(shape.context));
  // prefill takes a prompt a chunk at a time, decode one token at a time.
  for (auto [name, tokens] :
       {std::pair<const char *, int64_t>{kPrefill, shape.prefillChunk},
        {kDecode, 1}}) {
    builder.setInsertionPointToEnd(module->getBody());
    auto function = builder.create<func::FuncOp>(
        loc, name,
        builder.getFunctionType({nn.ids({shape.batch, tokens}), nn.ids({1})},
                                {nn.f32({shape.batch, model.vocabSize})}));
    function->setAttr(kEntryAttr, builder.getStringAttr(name));
    auto argument = [&](unsigned index, const char *argName, int64_t limit) {
      function.setArgAttr(index, kBindingAttr, builder.getStringAttr(argName));
      function.setArgAttr(index, kLimitAttr, builder.getI64IntegerAttr(limit));
    };
    argument(0, "tokens", model.vocabSize);
    argument(1, "position", shape.context - tokens + 1);
    function.setResultAttr(0, kBindingAttr, builder.getStringAttr("logits"));
    Block *entry = function.addEntryBlock();
    builder.setInsertionPointToStart(entry);
    Gpt gpt(nn, model, shape.batch, tokens, shape.context);
    Value logits = gpt.nextLogits(entry->getArgument(0), entry->getArgument(1));
    builder.create<func::ReturnOp>(loc, logits);
  }
  return module;
}

} // namespace giga
