// RUN: trn-opt %s -p graph-plan-tiling --split-input-file --verify-diagnostics

// A plan given on the IR is checked: every entry, of its type.

func.func @missing(%x: tensor<128x512xf32>, %w: tensor<512x512xf32>) -> tensor<128x512xf32> {
  // expected-error @+1 {{graph-plan-tiling: tile.plan has no 'x_row_loads'}}
  %y = graph.matmul %x, %w {tile.plan = {row_group = 1 : i64, keep_xt = true, k_loop = false, panel_blocks = 8 : i64}} : (tensor<128x512xf32>, tensor<512x512xf32>) -> tensor<128x512xf32>
  func.return %y : tensor<128x512xf32>
}

// -----

func.func @zero(%x: tensor<128x512xf32>, %w: tensor<512x512xf32>) -> tensor<128x512xf32> {
  // expected-error @+1 {{graph-plan-tiling: tile.plan 'row_group' must be at least 1, got 0}}
  %y = graph.matmul %x, %w {tile.plan = {row_group = 0 : i64, keep_xt = true, k_loop = false, panel_blocks = 8 : i64, x_row_loads = false}} : (tensor<128x512xf32>, tensor<512x512xf32>) -> tensor<128x512xf32>
  func.return %y : tensor<128x512xf32>
}

// -----

func.func @loop_without_xt(%x: tensor<128x512xf32>, %w: tensor<512x512xf32>) -> tensor<128x512xf32> {
  // expected-error @+1 {{graph-plan-tiling: tile.plan: k_loop needs keep_xt (the loop views x^T's blocks)}}
  %y = graph.matmul %x, %w {tile.plan = {row_group = 1 : i64, keep_xt = false, k_loop = true, panel_blocks = 8 : i64, x_row_loads = false}} : (tensor<128x512xf32>, tensor<512x512xf32>) -> tensor<128x512xf32>
  func.return %y : tensor<128x512xf32>
}

// -----

func.func @wrong_type(%x: tensor<128x512xf32>, %w: tensor<512x512xf32>) -> tensor<128x512xf32> {
  // expected-error @+1 {{graph-plan-tiling: tile.plan 'k_loop' must be true or false, got 2 : i64}}
  %y = graph.matmul %x, %w {tile.plan = {row_group = 1 : i64, keep_xt = true, k_loop = 2 : i64, panel_blocks = 8 : i64, x_row_loads = false}} : (tensor<128x512xf32>, tensor<512x512xf32>) -> tensor<128x512xf32>
  func.return %y : tensor<128x512xf32>
}
