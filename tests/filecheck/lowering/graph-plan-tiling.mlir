// RUN: trn-opt %s -p graph-plan-tiling | filecheck %s
// RUN: trn-opt %s -p 'graph-plan-tiling{override="big:k_loop=true;row_group=4"}' | filecheck %s --check-prefix=OVERRIDE
// RUN: trn-opt %s -p graph-plan-tiling,graph-to-tile | filecheck %s --check-prefix=TILE
// RUN: not trn-opt %s -p 'graph-plan-tiling{override="nowhere:k_loop=true"}' 2>&1 | filecheck %s --check-prefix=NAME
// RUN: not trn-opt %s -p 'graph-plan-tiling{override="big:depth=3"}' 2>&1 | filecheck %s --check-prefix=KEY

// graph-plan-tiling records each matmul's tiling as `tile.plan` (bf16 by default):
// - 128 rows of a graph input against a 1280x512 weight: one row block, so the K steps
//   are loops over panels of 8 blocks; x is an input, loaded block by block;
// - a relu's result against a weight that stays on chip, 1024 rows: the weight loaded
//   once, whole, and the 8 row blocks a loop over one body (`row_loop`);
// - 512 rows against a 4096x8192 weight, too big to stay on chip: row blocks share each
//   loaded tile of w, as many as keep their x^T blocks and result rows within 64 KiB a
//   partition (2 here), K steps unrolled;
// - a plan given beforehand (K steps unrolled for a one-row-block matmul) is kept.

// CHECK-LABEL: func.func @main
// CHECK:       graph.matmul %x, %w {tile.plan = {row_group = 1 : i64, keep_xt = true, k_loop = true, panel_blocks = 8 : i64, x_row_loads = false, row_loop = false}}
// CHECK:       graph.matmul %r, %w2 {tile.plan = {row_group = 1 : i64, keep_xt = true, k_loop = false, panel_blocks = 8 : i64, x_row_loads = true, row_loop = true}}
// CHECK:       graph.matmul %z, %w3 {tile.plan = {row_group = 2 : i64, keep_xt = true, k_loop = false, panel_blocks = 8 : i64, x_row_loads = false, row_loop = false}}
// CHECK:       graph.matmul %x, %w {tile.plan = {row_group = 1 : i64, keep_xt = true, k_loop = false, panel_blocks = 8 : i64, x_row_loads = false, row_loop = false}}

// The override names the op by its location (the ONNX node name).
// OVERRIDE:    graph.matmul %z, %w3 {tile.plan = {row_group = 4 : i64, keep_xt = true, k_loop = true, panel_blocks = 8 : i64, x_row_loads = false, row_loop = false}}

// An override naming no matmul, or an entry a plan does not have, is an error.
// NAME: error: {{.*}}graph-plan-tiling: override names no matmul: nowhere
// KEY:  error: {{.*}}graph-plan-tiling: override: a matmul plan has no 'depth'

// graph-to-tile follows the plans: eight loops in all, the first matmul's four (two
// panels of its ten K blocks: their loads, their matmuls) and the second's four (the
// loads of w2's K blocks, the row blocks, and in each the transposes and the K steps);
// the third's and the given plan's K steps are unrolled.
// TILE-LABEL: func.func @main
// TILE-COUNT-8: scf.for
// TILE-NOT:      scf.for
func.func @main(%x: tensor<128x1280xf32> {graph.name = "x"}, %w: tensor<1280x512xf32> {graph.name = "w"},
                %z: tensor<512x4096xf32> {graph.name = "z"}, %w2: tensor<512x256xf32> {graph.name = "w2"},
                %q: tensor<1024x512xf32> {graph.name = "q"}, %w3: tensor<4096x8192xf32> {graph.name = "w3"})
    -> (tensor<128x512xf32> {graph.name = "y"}, tensor<1024x256xf32> {graph.name = "y2"},
        tensor<512x8192xf32> {graph.name = "y3"}, tensor<128x512xf32> {graph.name = "y4"}) {
  %y = graph.matmul %x, %w : (tensor<128x1280xf32>, tensor<1280x512xf32>) -> tensor<128x512xf32>
  %r = graph.relu %q : tensor<1024x512xf32> -> tensor<1024x512xf32>
  %y2 = graph.matmul %r, %w2 : (tensor<1024x512xf32>, tensor<512x256xf32>) -> tensor<1024x256xf32>
  %y3 = graph.matmul %z, %w3 : (tensor<512x4096xf32>, tensor<4096x8192xf32>) -> tensor<512x8192xf32> loc("big")
  %y4 = graph.matmul %x, %w {tile.plan = {row_group = 1 : i64, keep_xt = true, k_loop = false, panel_blocks = 8 : i64, x_row_loads = false}} : (tensor<128x1280xf32>, tensor<1280x512xf32>) -> tensor<128x512xf32> loc("given")
  func.return %y, %y2, %y3, %y4 : tensor<128x512xf32>, tensor<1024x256xf32>, tensor<512x8192xf32>, tensor<128x512xf32>
}
