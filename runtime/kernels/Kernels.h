//===- Kernels.h - the whole fp32 kernel library ----------------*- C++ -*-===//
//
// See docs/kernels.md for what each kernel computes and its conventions.
//
//===----------------------------------------------------------------------===//
#ifndef GIGA_RUNTIME_KERNELS_KERNELS_H
#define GIGA_RUNTIME_KERNELS_KERNELS_H

#include "runtime/kernels/Attention.h"
#include "runtime/kernels/Bf16.h"
#include "runtime/kernels/Cpu.h"
#include "runtime/kernels/CrossEntropy.h"
#include "runtime/kernels/Elementwise.h"
#include "runtime/kernels/Embedding.h"
#include "runtime/kernels/LayerNorm.h"
#include "runtime/kernels/Layout.h"
#include "runtime/kernels/LinearCrossEntropy.h"
#include "runtime/kernels/Matmul.h"
#include "runtime/kernels/Optimizer.h"
#include "runtime/kernels/RmsNorm.h"
#include "runtime/kernels/Softmax.h"

#endif // GIGA_RUNTIME_KERNELS_KERNELS_H
