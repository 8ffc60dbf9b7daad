//===- make_toy.cpp - inputs for the gigarun end-to-end tests -------------===//
//
//   giga-e2e-make-toy DIR
//
// Writes, without gigac, what the shell tests feed gigarun: toy.wafer (the
// hand-built artifact of test/unit/trainer/ToyArtifact.h), wide.wafer (the
// same program for another model), remicro.wafer (the same model with
// another micro-batch), huge.wafer (a tensor of 2^62 elements), nan.wafer (a learning rate that blows up at step
// 2), train.bin and val.bin (nanoGPT uint16 tokens), train-llmc.bin (the
// same tokens as an llm.c shard), bad-token.bin (a token >= vocab),
// short.bin (shorter than one window) and odd.bin (an odd number of bytes).
//
//===----------------------------------------------------------------------===//
#include "test/unit/trainer/ToyArtifact.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <vector>

using namespace giga;

int main(int argc, char **argv) {
  if (argc != 2) {
    std::cerr << "usage: giga-e2e-make-toy DIR\n";
    return 1;
  }
  std::string dir = argv[1];
  test::ToyShape shape;
  artifact::writeArtifact(dir + "/toy.wafer", test::makeToyArtifact(shape));
  test::ToyShape wide = shape;
  wide.width = 12;
  artifact::writeArtifact(dir + "/wide.wafer", test::makeToyArtifact(wide));
  test::ToyShape remicro = shape;
  remicro.micro = 1;
  artifact::writeArtifact(dir + "/remicro.wafer",
                          test::makeToyArtifact(remicro));
  test::ToyShape nan = shape;
  nan.learningRate = 1e30;
  nan.checkpointSteps = 1;
  artifact::writeArtifact(dir + "/nan.wafer", test::makeToyArtifact(nan));
  // A parameter whose element count would overflow 64-bit sizes (2^62):
  // the reader must refuse it before anything computes its bytes.
  artifact::Artifact huge = test::makeToyArtifact(shape);
  huge.params[0].shape = {int64_t(1) << 31, int64_t(1) << 31};
  artifact::writeArtifact(dir + "/huge.wafer", huge);

  test::writeToyTokens(dir + "/train.bin", 5000, shape.vocab);
  test::writeToyTokens(dir + "/val.bin", 1000, shape.vocab, 7);

  // The same tokens as an llm.c shard: 256 int32 header, then uint16 ids.
  std::ifstream in(dir + "/train.bin", std::ios::binary);
  std::vector<char> ids((std::istreambuf_iterator<char>(in)),
                        std::istreambuf_iterator<char>());
  std::vector<int32_t> header(256, 0);
  header[0] = 20240520;
  header[1] = 1;
  header[2] = int32_t(ids.size() / 2);
  std::ofstream llmc(dir + "/train-llmc.bin", std::ios::binary);
  llmc.write(reinterpret_cast<const char *>(header.data()), 1024);
  llmc.write(ids.data(), std::streamsize(ids.size()));

  std::vector<uint16_t> bad(400, 1);
  bad[300] = uint16_t(shape.vocab + 5);
  std::ofstream(dir + "/bad-token.bin", std::ios::binary)
      .write(reinterpret_cast<const char *>(bad.data()), 800);
  std::ofstream(dir + "/short.bin", std::ios::binary)
      .write(reinterpret_cast<const char *>(bad.data()), 10);
  std::ofstream(dir + "/odd.bin", std::ios::binary)
      .write(reinterpret_cast<const char *>(bad.data()), 401);
  return 0;
}
