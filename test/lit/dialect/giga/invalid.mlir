// RUN: giga-opt %s --split-input-file --verify-diagnostics
// One case per verifier branch of every giga op.

func.func @param_empty_name() {
  // expected-error @+1 {{'giga.param' op needs a non-empty name}}
  %0 = giga.param "" zeros : tensor<4xf32>
  return
}

// -----

func.func @param_normal_without_std() {
  // expected-error @+1 {{with 'normal' init needs a standard deviation}}
  %0 = giga.param "w" normal : tensor<4xf32>
  return
}

// -----

func.func @param_nonpositive_std() {
  // expected-error @+1 {{std must be positive and finite but is -1}}
  %0 = giga.param "w" normal std -1.0 : tensor<4xf32>
  return
}

// -----

func.func @param_infinite_std() {
  // expected-error @+1 {{std must be positive and finite but is inf}}
  %0 = giga.param "w" normal std 0x7FF0000000000000 : tensor<4xf32>
  return
}

// -----

func.func @param_std_on_zeros() {
  // expected-error @+1 {{'zeros' init takes no std; remove 'std 0.5'}}
  %0 = giga.param "b" zeros std 0.5 : tensor<4xf32>
  return
}

// -----

func.func @param_dynamic_shape() {
  // expected-error @+1 {{must be statically shaped tensor of 32-bit float values}}
  %0 = giga.param "w" ones : tensor<?xf32>
  return
}

// -----

func.func @embedding_table_rank(%t: tensor<10xf32>, %ids: tensor<3xi32>) {
  // expected-error @+1 {{table must have shape [vocab, width] but has shape [10]}}
  %0 = giga.embedding %t[%ids] : (tensor<10xf32>, tensor<3xi32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @embedding_result(%t: tensor<10x4xf32>, %ids: tensor<3xi32>) {
  // expected-error @+1 {{result has shape [3, 5] but expected [3, 4] (the ids' shape followed by the table width)}}
  %0 = giga.embedding %t[%ids] : (tensor<10x4xf32>, tensor<3xi32>) -> tensor<3x5xf32>
  return
}

// -----

func.func @embedding_float_ids(%t: tensor<10x4xf32>, %ids: tensor<3xf32>) {
  // expected-error @+1 {{operand #1 must be statically shaped tensor of integer values}}
  %0 = giga.embedding %t[%ids] : (tensor<10x4xf32>, tensor<3xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @iota_rank() {
  // expected-error @+1 {{result must have rank 1 but has shape [2, 2]}}
  %0 = giga.iota : tensor<2x2xi32>
  return
}

// -----

func.func @matmul_lhs_rank(%a: tensor<4xf32>, %b: tensor<4x4xf32>) {
  // expected-error @+1 {{lhs must have rank >= 2 but has shape [4]}}
  %0 = giga.matmul %a, %b : (tensor<4xf32>, tensor<4x4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @matmul_rhs_rank(%a: tensor<4x4xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{rhs must have rank >= 2 but has shape [4]}}
  %0 = giga.matmul %a, %b : (tensor<4x4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @matmul_contraction(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+1 {{contraction dimensions differ: lhs has 3 and rhs has 4}}
  %0 = giga.matmul %a, %b : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  return
}

// -----

func.func @matmul_transposed_contraction(%a: tensor<2x3xf32>, %b: tensor<3x5xf32>) {
  // expected-error @+1 {{contraction dimensions differ: lhs has 3 and rhs has 5}}
  %0 = giga.matmul %a, %b {transpose_rhs} : (tensor<2x3xf32>, tensor<3x5xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @matmul_batch(%a: tensor<2x3x4xf32>, %b: tensor<3x4x5xf32>) {
  // expected-error @+1 {{rhs batch dimensions [3] must equal lhs batch dimensions [2]}}
  %0 = giga.matmul %a, %b : (tensor<2x3x4xf32>, tensor<3x4x5xf32>) -> tensor<2x3x5xf32>
  return
}

// -----

func.func @matmul_result(%a: tensor<2x3x4xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+1 {{result has shape [2, 3, 4] but expected [2, 3, 5]}}
  %0 = giga.matmul %a, %b : (tensor<2x3x4xf32>, tensor<4x5xf32>) -> tensor<2x3x4xf32>
  return
}

// -----

func.func @add_shapes(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) {
  // expected-error @+1 {{rhs has shape [2, 4] but expected [2, 3] or a suffix of it}}
  %0 = giga.add %a, %b : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @add_result(%a: tensor<2x3xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{result has shape [3] but expected [2, 3]}}
  %0 = giga.add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return
}

// -----

func.func @bias_add_rank(%x: tensor<f32>, %b: tensor<1xf32>) {
  // expected-error @+1 {{input must have rank >= 1 but has shape []}}
  %0 = giga.bias_add %x, %b : (tensor<f32>, tensor<1xf32>) -> tensor<f32>
  return
}

// -----

func.func @bias_add_bias(%x: tensor<2x3xf32>, %b: tensor<2xf32>) {
  // expected-error @+1 {{bias has shape [2] but expected [3] (the last dimension of the input)}}
  %0 = giga.bias_add %x, %b : (tensor<2x3xf32>, tensor<2xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @bias_add_result(%x: tensor<2x3xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{result has shape [3, 2] but expected [2, 3]}}
  %0 = giga.bias_add %x, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @layernorm_rank(%x: tensor<f32>, %g: tensor<1xf32>) {
  // expected-error @+1 {{input must have rank >= 1 but has shape []}}
  %0 = giga.layernorm %x, %g, %g : (tensor<f32>, tensor<1xf32>, tensor<1xf32>) -> tensor<f32>
  return
}

// -----

func.func @layernorm_weight(%x: tensor<2x3xf32>, %g: tensor<2xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{weight has shape [2] but expected [3] (the last dimension of the input)}}
  %0 = giga.layernorm %x, %g, %b : (tensor<2x3xf32>, tensor<2xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @layernorm_bias(%x: tensor<2x3xf32>, %g: tensor<3xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{bias has shape [4] but expected [3] (the last dimension of the input)}}
  %0 = giga.layernorm %x, %g, %b : (tensor<2x3xf32>, tensor<3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @layernorm_epsilon(%x: tensor<2x3xf32>, %g: tensor<3xf32>) {
  // expected-error @+1 {{epsilon must be positive but is 0}}
  %0 = giga.layernorm %x, %g, %g {epsilon = 0.0 : f64} : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @layernorm_result(%x: tensor<2x3xf32>, %g: tensor<3xf32>) {
  // expected-error @+1 {{result has shape [6] but expected [2, 3]}}
  %0 = giga.layernorm %x, %g, %g : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<6xf32>
  return
}

// -----

func.func @rmsnorm_rank(%x: tensor<f32>, %g: tensor<1xf32>) {
  // expected-error @+1 {{input must have rank >= 1 but has shape []}}
  %0 = giga.rmsnorm %x, %g : (tensor<f32>, tensor<1xf32>) -> tensor<f32>
  return
}

// -----

func.func @rmsnorm_weight(%x: tensor<2x3xf32>, %g: tensor<2xf32>) {
  // expected-error @+1 {{weight has shape [2] but expected [3] (the last dimension of the input)}}
  %0 = giga.rmsnorm %x, %g : (tensor<2x3xf32>, tensor<2xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @rmsnorm_epsilon(%x: tensor<2x3xf32>, %g: tensor<3xf32>) {
  // expected-error @+1 {{epsilon must be positive but is -1}}
  %0 = giga.rmsnorm %x, %g {epsilon = -1.0 : f64} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @rmsnorm_result(%x: tensor<2x3xf32>, %g: tensor<3xf32>) {
  // expected-error @+1 {{result has shape [3, 2] but expected [2, 3]}}
  %0 = giga.rmsnorm %x, %g : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @gelu_types(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = "giga.gelu"(%x) : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @softmax_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{axis 2 is out of range for rank 2 (use -2 to 1)}}
  %0 = giga.softmax %x {axis = 2} : tensor<2x3xf32>
  return
}

// -----

func.func @causal_mask_square() {
  // expected-error @+1 {{result must be a square [T, T] mask but has shape [4, 5]}}
  %0 = giga.causal_mask : tensor<4x5xf32>
  return
}

// -----

func.func @attention_rank(%q: tensor<2x5x4xf32>, %m: tensor<5x5xf32>) {
  // expected-error @+1 {{query must have shape [batch, heads, seq, head_dim] but has shape [2, 5, 4]}}
  %0 = giga.attention %q, %q, %q, %m {scale = 0.5 : f64} : (tensor<2x5x4xf32>, tensor<2x5x4xf32>, tensor<2x5x4xf32>, tensor<5x5xf32>) -> tensor<2x5x4xf32>
  return
}

// -----

func.func @attention_key(%q: tensor<1x2x5x4xf32>, %k: tensor<1x2x5x8xf32>, %m: tensor<5x5xf32>) {
  // expected-error @+1 {{key has shape [1, 2, 5, 8] but expected [1, 2, 5, 4] (the query's batch, heads and head_dim)}}
  %0 = giga.attention %q, %k, %q, %m {scale = 0.5 : f64} : (tensor<1x2x5x4xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x4xf32>, tensor<5x5xf32>) -> tensor<1x2x5x4xf32>
  return
}

// -----

func.func @attention_value(%q: tensor<1x2x5x4xf32>, %v: tensor<1x1x5x4xf32>, %m: tensor<5x5xf32>) {
  // expected-error @+1 {{value has shape [1, 1, 5, 4] but expected [1, 2, 5, 4] (the key's shape)}}
  %0 = giga.attention %q, %q, %v, %m {scale = 0.5 : f64} : (tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>, tensor<1x1x5x4xf32>, tensor<5x5xf32>) -> tensor<1x2x5x4xf32>
  return
}

// -----

func.func @attention_mask(%q: tensor<1x2x5x4xf32>, %m: tensor<4x4xf32>) {
  // expected-error @+1 {{mask has shape [4, 4] but expected [5, 5] ([seq, keys])}}
  %0 = giga.attention %q, %q, %q, %m {scale = 0.5 : f64} : (tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>, tensor<4x4xf32>) -> tensor<1x2x5x4xf32>
  return
}

// -----

func.func @attention_key_rank(%q: tensor<1x2x5x4xf32>, %k: tensor<2x5x4xf32>, %m: tensor<5x5xf32>) {
  // expected-error @+1 {{key must have shape [batch, heads, keys, head_dim] but has shape [2, 5, 4]}}
  %0 = giga.attention %q, %k, %k, %m {scale = 0.5 : f64} : (tensor<1x2x5x4xf32>, tensor<2x5x4xf32>, tensor<2x5x4xf32>, tensor<5x5xf32>) -> tensor<1x2x5x4xf32>
  return
}

// -----

func.func @attention_cross_mask(%q: tensor<1x2x1x4xf32>, %k: tensor<1x2x6x4xf32>, %m: tensor<6x6xf32>) {
  // expected-error @+1 {{mask has shape [6, 6] but expected [1, 6] ([seq, keys])}}
  %0 = giga.attention %q, %k, %k, %m {scale = 0.5 : f64} : (tensor<1x2x1x4xf32>, tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>, tensor<6x6xf32>) -> tensor<1x2x1x4xf32>
  return
}

// -----

func.func @attention_scale(%q: tensor<1x2x5x4xf32>, %m: tensor<5x5xf32>) {
  // expected-error @+1 {{scale must be positive but is 0}}
  %0 = giga.attention %q, %q, %q, %m {scale = 0.0 : f64} : (tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>, tensor<5x5xf32>) -> tensor<1x2x5x4xf32>
  return
}

// -----

func.func @attention_result(%q: tensor<1x2x5x4xf32>, %m: tensor<5x5xf32>) {
  // expected-error @+1 {{result has shape [1, 5, 2, 4] but expected [1, 2, 5, 4]}}
  %0 = giga.attention %q, %q, %q, %m {scale = 0.5 : f64} : (tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>, tensor<5x5xf32>) -> tensor<1x5x2x4xf32>
  return
}

// -----

func.func @cross_entropy_rank(%l: tensor<7xf32>, %t: tensor<i32>) {
  // expected-error @+1 {{logits must have rank >= 2 but has shape [7]}}
  %0 = giga.cross_entropy %l, %t : (tensor<7xf32>, tensor<i32>) -> tensor<f32>
  return
}

// -----

func.func @cross_entropy_targets(%l: tensor<2x3x7xf32>, %t: tensor<2x4xi32>) {
  // expected-error @+1 {{targets has shape [2, 4] but expected [2, 3] (the logits' shape without the vocabulary dimension)}}
  %0 = giga.cross_entropy %l, %t : (tensor<2x3x7xf32>, tensor<2x4xi32>) -> tensor<f32>
  return
}

// -----

func.func @cross_entropy_scalar(%l: tensor<2x7xf32>, %t: tensor<2xi32>) {
  // expected-error @+1 {{result #0 must be 0D tensor of 32-bit float values}}
  %0 = giga.cross_entropy %l, %t : (tensor<2x7xf32>, tensor<2xi32>) -> tensor<2xf32>
  return
}

// -----

func.func @reshape_count(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{cannot reshape [2, 3] (6 elements) to [4, 2] (8 elements)}}
  %0 = giga.reshape %x : tensor<2x3xf32> -> tensor<4x2xf32>
  return
}

// -----

func.func @transpose_length(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{permutation has 3 entries but the input has rank 2}}
  %0 = giga.transpose %x [0, 1, 2] : tensor<2x3xf32> -> tensor<2x3xf32>
  return
}

// -----

func.func @transpose_not_permutation(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{permutation [1, 1] is not a permutation of 0..1}}
  %0 = giga.transpose %x [1, 1] : tensor<2x3xf32> -> tensor<3x3xf32>
  return
}

// -----

func.func @transpose_result(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{result has shape [2, 3] but expected [3, 2]}}
  %0 = giga.transpose %x [1, 0] : tensor<2x3xf32> -> tensor<2x3xf32>
  return
}

// -----

func.func @split_axis(%x: tensor<2x4xf32>) {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0:2 = giga.split %x along 2 : tensor<2x4xf32> -> tensor<2x2xf32>, tensor<2x2xf32>
  return
}

// -----

func.func @split_no_results(%x: tensor<2x4xf32>) {
  // expected-error @+1 {{needs at least one result}}
  "giga.split"(%x) {axis = 1 : i64} : (tensor<2x4xf32>) -> ()
  return
}

// -----

func.func @split_divisible(%x: tensor<2x4xf32>) {
  // expected-error @+1 {{cannot split dimension 1 of size 4 into 3 equal parts}}
  %0:3 = giga.split %x along 1 : tensor<2x4xf32> -> tensor<2x1xf32>, tensor<2x1xf32>, tensor<2x1xf32>
  return
}

// -----

func.func @split_result(%x: tensor<2x4xf32>) {
  // expected-error @+1 {{result #1 has shape [2, 3] but expected [2, 2]}}
  %0:2 = giga.split %x along 1 : tensor<2x4xf32> -> tensor<2x2xf32>, tensor<2x3xf32>
  return
}

// -----

func.func @repeat_count(%x: tensor<2xf32>) {
  // expected-error @+1 {{attribute 'count' failed to satisfy constraint: 64-bit signless integer attribute whose minimum value is 1}}
  %0 = giga.repeat 0 "h" (%x : tensor<2xf32>) -> tensor<2xf32> {
  ^bb0(%h: tensor<2xf32>):
    giga.yield %h : tensor<2xf32>
  }
  return
}

// -----

func.func @repeat_prefix(%x: tensor<2xf32>) {
  // expected-error @+1 {{needs a non-empty prefix for its parameters}}
  %0 = giga.repeat 2 "" (%x : tensor<2xf32>) -> tensor<2xf32> {
  ^bb0(%h: tensor<2xf32>):
    giga.yield %h : tensor<2xf32>
  }
  return
}

// -----

func.func @repeat_slice_leading(%x: tensor<2xf32>, %s: tensor<3x2xf32>) {
  // expected-error @+1 {{slices operand #0 has shape [3, 2] but its leading dimension must be the count 2}}
  %0 = giga.repeat 2 "h" (%x : tensor<2xf32>) slices(%s : tensor<3x2xf32>) -> tensor<2xf32> {
  ^bb0(%h: tensor<2xf32>, %t: tensor<2xf32>):
    giga.yield %h : tensor<2xf32>
  }
  return
}

// -----

func.func @repeat_carried_results(%x: tensor<2xf32>) {
  // expected-error @+1 {{results must begin with the carried types 'tensor<2xf32>'}}
  %0 = giga.repeat 2 "h" (%x : tensor<2xf32>) -> tensor<3xf32> {
  ^bb0(%h: tensor<2xf32>):
    giga.yield %h : tensor<2xf32>
  }
  return
}

// -----

func.func @repeat_stacked_leading(%x: tensor<2xf32>) {
  // expected-error @+1 {{stacked result #0 has shape [5, 2] but its leading dimension must be the count 2}}
  %0:2 = giga.repeat 2 "h" (%x : tensor<2xf32>) -> tensor<2xf32>, tensor<5x2xf32> {
  ^bb0(%h: tensor<2xf32>):
    giga.yield %h, %h : tensor<2xf32>, tensor<2xf32>
  }
  return
}

// -----

func.func @repeat_arguments(%x: tensor<2xf32>) {
  // expected-error @+1 {{body arguments 'tensor<3xf32>' must be the carried types followed by one slice of each slices operand: 'tensor<2xf32>'}}
  %0 = giga.repeat 2 "h" (%x : tensor<2xf32>) -> tensor<2xf32> {
  ^bb0(%h: tensor<3xf32>):
    %1 = giga.param "b" zeros : tensor<2xf32>
    giga.yield %1 : tensor<2xf32>
  }
  return
}

// -----

func.func @repeat_yield(%x: tensor<2xf32>) {
  %0 = giga.repeat 2 "h" (%x : tensor<2xf32>) -> tensor<2xf32> {
  ^bb0(%h: tensor<2xf32>):
    %1 = giga.param "b" zeros : tensor<3xf32>
    // expected-error @+1 {{yields 'tensor<3xf32>' but the enclosing giga.repeat expects the carried types followed by one slice of each stacked result: 'tensor<2xf32>'}}
    giga.yield %1 : tensor<3xf32>
  }
  return
}

// -----

func.func @yield_outside_repeat(%x: tensor<2xf32>) {
  // expected-error @+1 {{expects parent op 'giga.repeat'}}
  giga.yield %x : tensor<2xf32>
}

// -----

func.func @reduce_sum_suffix(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{result shape [2] must be a suffix of the input shape [2, 3]}}
  %0 = giga.reduce_sum %x : tensor<2x3xf32> -> tensor<2xf32>
  return
}

// -----

func.func @concat_empty() {
  // expected-error @+1 {{needs at least one input}}
  %0 = "giga.concat"() {axis = 0 : i64} : () -> tensor<2xf32>
  return
}

// -----

func.func @concat_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = giga.concat %x, %x along 2 : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x6xf32>
  return
}

// -----

func.func @concat_rank(%x: tensor<2x3xf32>, %y: tensor<3xf32>) {
  // expected-error @+1 {{input #1 has rank 1 but input #0 has rank 2}}
  %0 = giga.concat %x, %y along 1 : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x6xf32>
  return
}

// -----

func.func @concat_shape(%x: tensor<2x3xf32>, %y: tensor<4x3xf32>) {
  // expected-error @+1 {{input #1 has shape [4, 3] which differs from input #0 [2, 3] outside axis 1}}
  %0 = giga.concat %x, %y along 1 : tensor<2x3xf32>, tensor<4x3xf32> -> tensor<2x6xf32>
  return
}

// -----

func.func @concat_result(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{result has shape [2, 5] but expected [2, 6]}}
  %0 = giga.concat %x, %x along 1 : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x5xf32>
  return
}

// -----

func.func @embedding_grad_table(%g: tensor<3x4xf32>, %ids: tensor<3xi32>) {
  // expected-error @+1 {{table_grad must have shape [vocab, width] but has shape [40]}}
  %0 = giga.embedding_grad %g, %ids : (tensor<3x4xf32>, tensor<3xi32>) -> tensor<40xf32>
  return
}

// -----

func.func @embedding_grad_grad(%g: tensor<3x5xf32>, %ids: tensor<3xi32>) {
  // expected-error @+1 {{grad has shape [3, 5] but expected [3, 4] (the ids' shape followed by the table width)}}
  %0 = giga.embedding_grad %g, %ids : (tensor<3x5xf32>, tensor<3xi32>) -> tensor<10x4xf32>
  return
}

// -----

func.func @layernorm_grad_grad(%g: tensor<2x4xf32>, %x: tensor<2x3xf32>, %w: tensor<3xf32>) {
  // expected-error @+1 {{grad has shape [2, 4] but expected [2, 3] (the input's shape)}}
  %0:3 = giga.layernorm_grad %g, %x, %w : (tensor<2x4xf32>, tensor<2x3xf32>, tensor<3xf32>) -> (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>)
  return
}

// -----

func.func @layernorm_grad_rank(%x: tensor<f32>, %w: tensor<1xf32>) {
  // expected-error @+1 {{input must have rank >= 1 but has shape []}}
  %0:3 = giga.layernorm_grad %x, %x, %w : (tensor<f32>, tensor<f32>, tensor<1xf32>) -> (tensor<f32>, tensor<1xf32>, tensor<1xf32>)
  return
}

// -----

func.func @layernorm_grad_weight(%x: tensor<2x3xf32>, %w: tensor<2xf32>) {
  // expected-error @+1 {{weight has shape [2] but expected [3] (the last dimension of the input)}}
  %0:3 = giga.layernorm_grad %x, %x, %w : (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>)
  return
}

// -----

func.func @layernorm_grad_input_grad(%x: tensor<2x3xf32>, %w: tensor<3xf32>) {
  // expected-error @+1 {{input_grad has shape [3, 2] but expected [2, 3]}}
  %0:3 = giga.layernorm_grad %x, %x, %w : (tensor<2x3xf32>, tensor<2x3xf32>, tensor<3xf32>) -> (tensor<3x2xf32>, tensor<3xf32>, tensor<3xf32>)
  return
}

// -----

func.func @layernorm_grad_weight_grad(%x: tensor<2x3xf32>, %w: tensor<3xf32>) {
  // expected-error @+1 {{weight_grad has shape [2] but expected [3]}}
  %0:3 = giga.layernorm_grad %x, %x, %w : (tensor<2x3xf32>, tensor<2x3xf32>, tensor<3xf32>) -> (tensor<2x3xf32>, tensor<2xf32>, tensor<3xf32>)
  return
}

// -----

func.func @layernorm_grad_bias_grad(%x: tensor<2x3xf32>, %w: tensor<3xf32>) {
  // expected-error @+1 {{bias_grad has shape [4] but expected [3]}}
  %0:3 = giga.layernorm_grad %x, %x, %w : (tensor<2x3xf32>, tensor<2x3xf32>, tensor<3xf32>) -> (tensor<2x3xf32>, tensor<3xf32>, tensor<4xf32>)
  return
}

// -----

func.func @rmsnorm_grad_grad(%g: tensor<2x4xf32>, %x: tensor<2x3xf32>, %w: tensor<3xf32>) {
  // expected-error @+1 {{grad has shape [2, 4] but expected [2, 3] (the input's shape)}}
  %0:2 = giga.rmsnorm_grad %g, %x, %w : (tensor<2x4xf32>, tensor<2x3xf32>, tensor<3xf32>) -> (tensor<2x3xf32>, tensor<3xf32>)
  return
}

// -----

func.func @rmsnorm_grad_rank(%x: tensor<f32>, %w: tensor<1xf32>) {
  // expected-error @+1 {{input must have rank >= 1 but has shape []}}
  %0:2 = giga.rmsnorm_grad %x, %x, %w : (tensor<f32>, tensor<f32>, tensor<1xf32>) -> (tensor<f32>, tensor<1xf32>)
  return
}

// -----

func.func @rmsnorm_grad_weight(%x: tensor<2x3xf32>, %w: tensor<2xf32>) {
  // expected-error @+1 {{weight has shape [2] but expected [3] (the last dimension of the input)}}
  %0:2 = giga.rmsnorm_grad %x, %x, %w : (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> (tensor<2x3xf32>, tensor<3xf32>)
  return
}

// -----

func.func @rmsnorm_grad_input_grad(%x: tensor<2x3xf32>, %w: tensor<3xf32>) {
  // expected-error @+1 {{input_grad has shape [3, 2] but expected [2, 3]}}
  %0:2 = giga.rmsnorm_grad %x, %x, %w : (tensor<2x3xf32>, tensor<2x3xf32>, tensor<3xf32>) -> (tensor<3x2xf32>, tensor<3xf32>)
  return
}

// -----

func.func @rmsnorm_grad_weight_grad(%x: tensor<2x3xf32>, %w: tensor<3xf32>) {
  // expected-error @+1 {{weight_grad has shape [2] but expected [3]}}
  %0:2 = giga.rmsnorm_grad %x, %x, %w : (tensor<2x3xf32>, tensor<2x3xf32>, tensor<3xf32>) -> (tensor<2x3xf32>, tensor<2xf32>)
  return
}

// -----

func.func @gelu_grad_types(%g: tensor<2xf32>, %x: tensor<3xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = "giga.gelu_grad"(%g, %x) : (tensor<2xf32>, tensor<3xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @softmax_grad_types(%g: tensor<2xf32>, %y: tensor<3xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = "giga.softmax_grad"(%g, %y) : (tensor<2xf32>, tensor<3xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @attention_grad_rank(%q: tensor<2x5x4xf32>, %m: tensor<5x5xf32>) {
  // expected-error @+1 {{query must have shape [batch, heads, seq, head_dim] but has shape [2, 5, 4]}}
  %0:3 = giga.attention_grad %q, %q, %q, %q, %m {scale = 0.5 : f64} : (tensor<2x5x4xf32>, tensor<2x5x4xf32>, tensor<2x5x4xf32>, tensor<2x5x4xf32>, tensor<5x5xf32>) -> (tensor<2x5x4xf32>, tensor<2x5x4xf32>, tensor<2x5x4xf32>)
  return
}

// -----

func.func @attention_grad_shapes(%q: tensor<1x2x5x4xf32>, %k: tensor<1x2x5x8xf32>, %m: tensor<5x5xf32>) {
  // expected-error @+1 {{key has shape [1, 2, 5, 8] but expected [1, 2, 5, 4] (the query's batch, heads and head_dim)}}
  %0:3 = giga.attention_grad %q, %q, %k, %q, %m {scale = 0.5 : f64} : (tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x4xf32>, tensor<5x5xf32>) -> (tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>)
  return
}

// -----

func.func @attention_grad_query_grad(%q: tensor<1x2x1x4xf32>, %k: tensor<1x2x6x4xf32>, %m: tensor<1x6xf32>) {
  // expected-error @+1 {{query_grad has shape [1, 2, 6, 4] but expected [1, 2, 1, 4] (the query's shape)}}
  %0:3 = giga.attention_grad %q, %q, %k, %k, %m {scale = 0.5 : f64} : (tensor<1x2x1x4xf32>, tensor<1x2x1x4xf32>, tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>, tensor<1x6xf32>) -> (tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>)
  return
}

// -----

func.func @attention_grad_key_grad(%q: tensor<1x2x1x4xf32>, %k: tensor<1x2x6x4xf32>, %m: tensor<1x6xf32>) {
  // expected-error @+1 {{key_grad has shape [1, 2, 1, 4] but expected [1, 2, 6, 4] (the key's shape)}}
  %0:3 = giga.attention_grad %q, %q, %k, %k, %m {scale = 0.5 : f64} : (tensor<1x2x1x4xf32>, tensor<1x2x1x4xf32>, tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>, tensor<1x6xf32>) -> (tensor<1x2x1x4xf32>, tensor<1x2x1x4xf32>, tensor<1x2x6x4xf32>)
  return
}

// -----

func.func @attention_grad_mask(%q: tensor<1x2x5x4xf32>, %m: tensor<4x4xf32>) {
  // expected-error @+1 {{mask has shape [4, 4] but expected [5, 5] ([seq, keys])}}
  %0:3 = giga.attention_grad %q, %q, %q, %q, %m {scale = 0.5 : f64} : (tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>, tensor<4x4xf32>) -> (tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>)
  return
}

// -----

func.func @cross_entropy_grad_rank(%g: tensor<f32>, %l: tensor<7xf32>, %t: tensor<i32>) {
  // expected-error @+1 {{logits must have rank >= 2 but has shape [7]}}
  %0 = giga.cross_entropy_grad %g, %l, %t : (tensor<f32>, tensor<7xf32>, tensor<i32>) -> tensor<7xf32>
  return
}

// -----

func.func @cross_entropy_grad_targets(%g: tensor<f32>, %l: tensor<2x7xf32>, %t: tensor<3xi32>) {
  // expected-error @+1 {{targets has shape [3] but expected [2] (the logits' shape without the vocabulary dimension)}}
  %0 = giga.cross_entropy_grad %g, %l, %t : (tensor<f32>, tensor<2x7xf32>, tensor<3xi32>) -> tensor<2x7xf32>
  return
}

// -----

func.func @cross_entropy_grad_result(%g: tensor<f32>, %l: tensor<2x7xf32>, %t: tensor<2xi32>) {
  // expected-error @+1 {{logits_grad has shape [2, 6] but expected [2, 7]}}
  %0 = giga.cross_entropy_grad %g, %l, %t : (tensor<f32>, tensor<2x7xf32>, tensor<2xi32>) -> tensor<2x6xf32>
  return
}

// -----

func.func @param_grad_name(%g: tensor<2xf32>) {
  // expected-error @+1 {{needs the name of the parameter it belongs to}}
  giga.param_grad "", %g : tensor<2xf32>
  return
}

// -----

func.func @grad_norm_outside_store() {
  // expected-error @+1 {{expects parent op 'giga.store'}}
  %0 = giga.grad_norm : tensor<f32>
  return
}

// -----

func.func @clip_scale_max_norm(%n: tensor<f32>) {
  // expected-error @+1 {{max_norm must be positive but is 0}}
  %0 = giga.clip_scale %n {max_norm = 0.0 : f64} : tensor<f32>
  return
}

// -----

func.func @lr_schedule_rate(%s: tensor<i64>) {
  // expected-error @+1 {{learning_rate must be positive but is -1}}
  %0 = giga.lr_schedule %s {learning_rate = -1.0 : f64, warmup_steps = 0 : i64, decay_steps = 10 : i64} : tensor<f32>
  return
}

// -----

func.func @lr_schedule_steps(%s: tensor<i64>) {
  // expected-error @+1 {{warmup_steps and decay_steps must not be negative}}
  %0 = giga.lr_schedule %s {learning_rate = 1.0 : f64, warmup_steps = -1 : i64, decay_steps = 10 : i64} : tensor<f32>
  return
}

// -----

func.func @lr_schedule_ratio(%s: tensor<i64>) {
  // expected-error @+1 {{min_ratio must be in [0, 1] but is 2}}
  %0 = giga.lr_schedule %s {learning_rate = 1.0 : f64, warmup_steps = 0 : i64, decay_steps = 10 : i64, min_ratio = 2.0 : f64} : tensor<f32>
  return
}

// -----

func.func @adamw_beta(%lr: tensor<f32>, %s: tensor<i64>) {
  // expected-error @+1 {{beta2 must be in [0, 1) but is 1}}
  giga.adamw "w" lr(%lr) scale(%lr) step(%s) {beta1 = 0.9 : f64, beta2 = 1.0 : f64, epsilon = 1.0e-8 : f64, weight_decay = 0.1 : f64} : tensor<2xf32>
  return
}

// -----

func.func @adamw_epsilon(%lr: tensor<f32>, %s: tensor<i64>) {
  // expected-error @+1 {{epsilon must be positive but is 0}}
  giga.adamw "w" lr(%lr) scale(%lr) step(%s) {beta1 = 0.9 : f64, beta2 = 0.95 : f64, epsilon = 0.0 : f64, weight_decay = 0.1 : f64} : tensor<2xf32>
  return
}

// -----

func.func @adamw_name(%lr: tensor<f32>, %s: tensor<i64>) {
  // expected-error @+1 {{needs the name of the parameter it updates}}
  giga.adamw "" lr(%lr) scale(%lr) step(%s) {beta1 = 0.9 : f64, beta2 = 0.95 : f64, epsilon = 1.0e-8 : f64, weight_decay = 0.1 : f64} : tensor<2xf32>
  return
}

// -----

func.func @adamw_type(%lr: tensor<f32>, %s: tensor<i64>) {
  // expected-error @+1 {{param_type must be a static f32 tensor but is 'tensor<?xf32>'}}
  giga.adamw "w" lr(%lr) scale(%lr) step(%s) {beta1 = 0.9 : f64, beta2 = 0.95 : f64, epsilon = 1.0e-8 : f64, weight_decay = 0.1 : f64} : tensor<?xf32>
  return
}

// -----

func.func @adamw_decay(%lr: tensor<f32>, %s: tensor<i64>) {
  // expected-error @+1 {{weight_decay must not be negative but is -0.1}}
  giga.adamw "w" lr(%lr) scale(%lr) step(%s) {beta1 = 0.9 : f64, beta2 = 0.95 : f64, epsilon = 1.0e-8 : f64, weight_decay = -0.1 : f64} : tensor<2xf32>
  return
}

// -----

func.func @sgd_momentum(%lr: tensor<f32>, %s: tensor<i64>) {
  // expected-error @+1 {{momentum must be in [0, 1) but is 1.5}}
  giga.sgd "w" lr(%lr) scale(%lr) step(%s) {momentum = 1.5 : f64, weight_decay = 0.0 : f64} : tensor<2xf32>
  return
}

// -----

func.func @lce_rank(%x: tensor<4xf32>, %w: tensor<7x4xf32>, %t: tensor<i32>) {
  // expected-error @+1 {{input must have rank >= 2 but has shape [4]}}
  %0 = giga.linear_cross_entropy %x, %w, %t {chunk = 3} : (tensor<4xf32>, tensor<7x4xf32>, tensor<i32>) -> tensor<f32>
  return
}

// -----

func.func @lce_weight_rank(%x: tensor<2x3x4xf32>, %w: tensor<4xf32>, %t: tensor<2x3xi32>) {
  // expected-error @+1 {{weight must have rank >= 2 but has shape [4]}}
  %0 = giga.linear_cross_entropy %x, %w, %t {chunk = 3} : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<2x3xi32>) -> tensor<f32>
  return
}

// -----

func.func @lce_weight_width(%x: tensor<2x3x4xf32>, %w: tensor<7x5xf32>, %t: tensor<2x3xi32>) {
  // expected-error @+1 {{weight has shape [7, 5] but expected [V, 4] (one row of the input's width per class)}}
  %0 = giga.linear_cross_entropy %x, %w, %t {chunk = 3} : (tensor<2x3x4xf32>, tensor<7x5xf32>, tensor<2x3xi32>) -> tensor<f32>
  return
}

// -----

func.func @lce_chunk_zero(%x: tensor<2x3x4xf32>, %w: tensor<7x4xf32>, %t: tensor<2x3xi32>) {
  // expected-error @+1 {{attribute 'chunk' failed to satisfy constraint}}
  %0 = giga.linear_cross_entropy %x, %w, %t {chunk = 0} : (tensor<2x3x4xf32>, tensor<7x4xf32>, tensor<2x3xi32>) -> tensor<f32>
  return
}

// -----

func.func @lce_targets(%x: tensor<2x3x4xf32>, %w: tensor<7x4xf32>, %t: tensor<2x4xi32>) {
  // expected-error @+1 {{targets has shape [2, 4] but expected [2, 3] (the input's shape without the channel dimension)}}
  %0 = giga.linear_cross_entropy %x, %w, %t {chunk = 3} : (tensor<2x3x4xf32>, tensor<7x4xf32>, tensor<2x4xi32>) -> tensor<f32>
  return
}

// -----

func.func @lce_grad_shared(%g: tensor<f32>, %x: tensor<2x3x4xf32>, %w: tensor<7x5xf32>, %t: tensor<2x3xi32>) {
  // expected-error @+1 {{weight has shape [7, 5] but expected [V, 4]}}
  %0, %1, %2 = giga.linear_cross_entropy_grad %g, %x, %w, %t {chunk = 3} : (tensor<f32>, tensor<2x3x4xf32>, tensor<7x5xf32>, tensor<2x3xi32>) -> (tensor<f32>, tensor<2x3x4xf32>, tensor<7x5xf32>)
  return
}

// -----

func.func @lce_grad_input_grad(%g: tensor<f32>, %x: tensor<2x3x4xf32>, %w: tensor<7x4xf32>, %t: tensor<2x3xi32>) {
  // expected-error @+1 {{input_grad has shape [6, 4] but expected [2, 3, 4] (the input's shape)}}
  %0, %1, %2 = giga.linear_cross_entropy_grad %g, %x, %w, %t {chunk = 3} : (tensor<f32>, tensor<2x3x4xf32>, tensor<7x4xf32>, tensor<2x3xi32>) -> (tensor<f32>, tensor<6x4xf32>, tensor<7x4xf32>)
  return
}

// -----

func.func @lce_grad_weight_grad(%g: tensor<f32>, %x: tensor<2x3x4xf32>, %w: tensor<7x4xf32>, %t: tensor<2x3xi32>) {
  // expected-error @+1 {{weight_grad has shape [4, 7] but expected [7, 4] (the weight's shape)}}
  %0, %1, %2 = giga.linear_cross_entropy_grad %g, %x, %w, %t {chunk = 3} : (tensor<f32>, tensor<2x3x4xf32>, tensor<7x4xf32>, tensor<2x3xi32>) -> (tensor<f32>, tensor<2x3x4xf32>, tensor<4x7xf32>)
  return
}

// -----

func.func @positions_start_not_one_i32(%s: tensor<2xi32>) {
  // expected-error @+1 {{start must be one position, tensor<1xi32>, but is 'tensor<2xi32>'}}
  %0 = giga.positions %s : tensor<2xi32> -> tensor<4xi32>
  return
}

// -----

func.func @positions_rank(%s: tensor<1xi32>) {
  // expected-error @+1 {{result must have rank 1 but has shape [2, 4]}}
  %0 = giga.positions %s : tensor<1xi32> -> tensor<2x4xi32>
  return
}

// -----

func.func @position_mask_start(%s: tensor<1x1xi32>) {
  // expected-error @+1 {{start must be one position}}
  %0 = giga.position_mask %s : tensor<1x1xi32> -> tensor<2x8xf32>
  return
}

// -----

func.func @position_mask_rank(%s: tensor<1xi32>) {
  // expected-error @+1 {{result must be a mask [S, Tk] but has shape [8]}}
  %0 = giga.position_mask %s : tensor<1xi32> -> tensor<8xf32>
  return
}

// -----

func.func @position_mask_more_queries_than_keys(%s: tensor<1xi32>) {
  // expected-error @+1 {{has more queries than keys: [9, 8] cannot hold a chunk and its past}}
  %0 = giga.position_mask %s : tensor<1xi32> -> tensor<9x8xf32>
  return
}

// -----

func.func @kv_cache_no_name(%k: tensor<1x2x1x4xf32>, %s: tensor<1xi32>) {
  // expected-error @+1 {{needs a cache name}}
  %0 = giga.kv_cache "" %k at %s : tensor<1x2x1x4xf32>, tensor<1xi32> -> tensor<1x2x8x4xf32>
  return
}

// -----

func.func @kv_cache_start(%k: tensor<1x2x1x4xf32>, %s: tensor<1xf32>) {
  // expected-error @+1 {{operand #1 must be}}
  %0 = giga.kv_cache "attn.k" %k at %s : tensor<1x2x1x4xf32>, tensor<1xf32> -> tensor<1x2x8x4xf32>
  return
}

// -----

func.func @kv_cache_start_shape(%k: tensor<1x2x1x4xf32>, %s: tensor<3xi32>) {
  // expected-error @+1 {{start must be one position, tensor<1xi32>, but is 'tensor<3xi32>'}}
  %0 = giga.kv_cache "attn.k" %k at %s : tensor<1x2x1x4xf32>, tensor<3xi32> -> tensor<1x2x8x4xf32>
  return
}

// -----

func.func @kv_cache_update_rank(%k: tensor<2x1x4xf32>, %s: tensor<1xi32>) {
  // expected-error @+1 {{update must be [B, H, S, D] but has shape [2, 1, 4]}}
  %0 = giga.kv_cache "attn.k" %k at %s : tensor<2x1x4xf32>, tensor<1xi32> -> tensor<1x2x8x4xf32>
  return
}

// -----

func.func @kv_cache_other_heads(%k: tensor<1x2x1x4xf32>, %s: tensor<1xi32>) {
  // expected-error @+1 {{cache must be [B, H, Tk, D] with the update's B, H and D and Tk >= its 1 rows, but the update is [1, 2, 1, 4] and the cache [1, 3, 8, 4]}}
  %0 = giga.kv_cache "attn.k" %k at %s : tensor<1x2x1x4xf32>, tensor<1xi32> -> tensor<1x3x8x4xf32>
  return
}

// -----

func.func @kv_cache_shorter_than_update(%k: tensor<1x2x9x4xf32>, %s: tensor<1xi32>) {
  // expected-error @+1 {{Tk >= its 9 rows}}
  %0 = giga.kv_cache "attn.k" %k at %s : tensor<1x2x9x4xf32>, tensor<1xi32> -> tensor<1x2x8x4xf32>
  return
}

// -----

func.func @slice_axis(%x: tensor<2x5x4xf32>) {
  // expected-error @+1 {{axis 3 is out of range for rank 3}}
  %0 = giga.slice %x along 3 from 0 : tensor<2x5x4xf32> -> tensor<2x1x4xf32>
  return
}

// -----

func.func @slice_other_dims(%x: tensor<2x5x4xf32>) {
  // expected-error @+1 {{result}}
  %0 = giga.slice %x along 1 from 0 : tensor<2x5x4xf32> -> tensor<2x1x3xf32>
  return
}

// -----

func.func @slice_past_the_end(%x: tensor<2x5x4xf32>) {
  // expected-error @+1 {{takes rows 4 to 5 of axis 1, which has 5}}
  %0 = giga.slice %x along 1 from 4 : tensor<2x5x4xf32> -> tensor<2x2x4xf32>
  return
}

// -----

func.func @slice_negative_start(%x: tensor<2x5x4xf32>) {
  // expected-error @+1 {{takes rows -1 to -1 of axis 1, which has 5}}
  %0 = giga.slice %x along 1 from -1 : tensor<2x5x4xf32> -> tensor<2x1x4xf32>
  return
}
