// RUN: trn-opt %s | trn-opt | filecheck %s
// RUN: trn-opt %s --print-op-generic | trn-opt | filecheck %s

// Types and layouts.

// The [S, H] = [512, 768] activation with H on partitions (6 chunks of 128) and the
// [K, N] = [1024, 512] weight split over K (8 unrolled [128, 512] tiles).
// CHECK-LABEL: func.func @layouts
// CHECK-SAME: (%{{.*}}: !tile.buffer<512x768xbf16, hbm>, %{{.*}}: !tile.buffer<1024x512xbf16, hbm, #tile.layout<[d0, d1] -> free(d0, d1)>>)
func.func @layouts(%x: !tile.buffer<512x768xbf16, hbm>, %w: !tile.buffer<1024x512xbf16, hbm, #tile.layout<[d0, d1] -> free(d0, d1)>>) {
  // CHECK-NEXT: [[A:%.*]] = tile.alloc : !tile.buffer<512x768xbf16, sbuf, #tile.layout<[d0, d1 : 6x128] -> part(d1.1) free(d1.0, d0)>>
  %a = tile.alloc : !tile.buffer<512x768xbf16, sbuf, #tile.layout<[d0, d1 : 6x128] -> part(d1.1) free(d1.0, d0)>>
  // CHECK-NEXT: [[B:%.*]] = tile.alloc : !tile.buffer<1024x512xbf16, sbuf, #tile.layout<[d0 : 8x128, d1] -> part(d0.1) free(d1) unroll(d0.0)>>
  %b = tile.alloc : !tile.buffer<1024x512xbf16, sbuf, #tile.layout<[d0:8 x 128, d1] -> part(d0.1) free(d1) unroll(d0.0)>>
  // CHECK-NEXT: tile.dealloc [[A]] : !tile.buffer<512x768xbf16, sbuf, #tile.layout<[d0, d1 : 6x128] -> part(d1.1) free(d1.0, d0)>>
  tile.dealloc %a : !tile.buffer<512x768xbf16, sbuf, #tile.layout<[d0, d1 : 6x128] -> part(d1.1) free(d1.0, d0)>>
  // CHECK-NEXT: tile.dealloc [[B]] : !tile.buffer<1024x512xbf16, sbuf, #tile.layout<[d0 : 8x128, d1] -> part(d0.1) free(d1) unroll(d0.0)>>
  tile.dealloc %b : !tile.buffer<1024x512xbf16, sbuf, #tile.layout<[d0 : 8x128, d1] -> part(d0.1) free(d1) unroll(d0.0)>>
  // CHECK-NEXT: func.return
  func.return
}

// Rotating buffers and queues: a load in a loop takes the next of 3 slots and the next of
// 4 queues each time it runs.
// CHECK-LABEL: func.func @rotating
func.func @rotating(%x: !tile.buffer<1024x512xbf16, hbm>) {
  %c0 = arith.constant 0 : index
  %c1024 = arith.constant 1024 : index
  %c128 = arith.constant 128 : index
  scf.for %i = %c0 to %c1024 step %c128 {
    // CHECK: [[R:%.*]] = tile.alloc address 0 start_partition 0 depth 3 : !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
    %r = tile.alloc address 0 start_partition 0 depth 3 : !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
    %v = tile.view %x[%i, 0] : !tile.buffer<1024x512xbf16, hbm> to !tile.buffer<128x512xbf16, hbm>
    // CHECK: tile.dma {{%.*}} -> [[R]] queue 4 queues 4 : !tile.buffer<128x512xbf16, hbm> -> !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
    tile.dma %v -> %r queue 4 queues 4 : !tile.buffer<128x512xbf16, hbm> -> !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
    tile.dealloc %r : !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  }
  func.return
}

// A tiled matmul kernel: C[256, 512] = AT[256, 256]^T @ B[256, 512], in bf16 with fp32
// accumulation. M is tiled by 128 (outer loop), K by 128 (the first K tile starts the
// PSUM accumulation group, the loop over the others accumulates), N = 512 fills one bank.

!hbm_at = !tile.buffer<256x256xbf16, hbm>
!hbm_b = !tile.buffer<256x512xbf16, hbm>
!hbm_c = !tile.buffer<256x512xbf16, hbm>
!hbm_w = !tile.buffer<128x128xbf16, hbm>
!hbm_x = !tile.buffer<128x512xbf16, hbm>
!sb_w = !tile.buffer<128x128xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!sb_x = !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!ps = !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>

// CHECK-LABEL: func.func @matmul_kernel
// CHECK-SAME: (%[[AT:.*]]: !tile.buffer<256x256xbf16, hbm>, %[[B:.*]]: !tile.buffer<256x512xbf16, hbm>, %[[C:.*]]: !tile.buffer<256x512xbf16, hbm>)
func.func @matmul_kernel(%at: !hbm_at, %b: !hbm_b, %c: !hbm_c) {
  // CHECK-NEXT: [[C0:%.*]] = arith.constant 0 : index
  // CHECK-NEXT: [[C128:%.*]] = arith.constant 128 : index
  // CHECK-NEXT: [[C256:%.*]] = arith.constant 256 : index
  %c0 = arith.constant 0 : index
  %c128 = arith.constant 128 : index
  %c256 = arith.constant 256 : index
  // CHECK-NEXT: scf.for [[M:%.*]] = [[C0]] to [[C256]] step [[C128]] {
  scf.for %m = %c0 to %c256 step %c128 {
    // CHECK-NEXT: [[ACC:%.*]] = tile.alloc address 0 start_partition 0 bank 0 : !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
    %acc = tile.alloc address 0 start_partition 0 bank 0 : !ps
    // CHECK-NEXT: [[W:%.*]] = tile.alloc address 0 start_partition 0 : !tile.buffer<128x128xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
    // CHECK-NEXT: [[X:%.*]] = tile.alloc address 256 start_partition 0 : !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
    %w = tile.alloc address 0 start_partition 0 : !sb_w
    %x = tile.alloc address 256 start_partition 0 : !sb_x
    // First K tile: start the accumulation group.
    // CHECK-NEXT: [[W0:%.*]] = tile.view %[[AT]] [0, [[M]]] : !tile.buffer<256x256xbf16, hbm> to !tile.buffer<128x128xbf16, hbm>
    // CHECK-NEXT: [[X0:%.*]] = tile.view %[[B]] [0, 0] : !tile.buffer<256x512xbf16, hbm> to !tile.buffer<128x512xbf16, hbm>
    %w0 = tile.view %at[0, %m] : !hbm_at to !hbm_w
    %x0 = tile.view %b[0, 0] : !hbm_b to !hbm_x
    // CHECK-NEXT: tile.dma [[W0]] -> [[W]] queue 0 : !tile.buffer<128x128xbf16, hbm> -> !tile.buffer<128x128xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
    // CHECK-NEXT: tile.dma [[X0]] -> [[X]] queue 1 : !tile.buffer<128x512xbf16, hbm> -> !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
    tile.dma %w0 -> %w queue 0 : !hbm_w -> !sb_w
    tile.dma %x0 -> %x queue 1 : !hbm_x -> !sb_x
    // CHECK-NEXT: tile.matmul [[W]], [[X]] -> [[ACC]] accumulate = false : !tile.buffer<128x128xbf16, sbuf, {{.*}}>, !tile.buffer<128x512xbf16, sbuf, {{.*}}> -> !tile.buffer<128x512xf32, psum, {{.*}}>
    tile.matmul %w, %x -> %acc accumulate = false : !sb_w, !sb_x -> !ps
    // The other K tiles accumulate.
    // CHECK-NEXT: scf.for [[K:%.*]] = [[C128]] to [[C256]] step [[C128]] {
    scf.for %k = %c128 to %c256 step %c128 {
      // CHECK-NEXT: [[WK:%.*]] = tile.view %[[AT]] [[[K]], [[M]]] : !tile.buffer<256x256xbf16, hbm> to !tile.buffer<128x128xbf16, hbm>
      // CHECK-NEXT: [[XK:%.*]] = tile.view %[[B]] [[[K]], 0] : !tile.buffer<256x512xbf16, hbm> to !tile.buffer<128x512xbf16, hbm>
      %wk = tile.view %at[%k, %m] : !hbm_at to !hbm_w
      %xk = tile.view %b[%k, 0] : !hbm_b to !hbm_x
      // CHECK-NEXT: tile.dma [[WK]] -> [[W]] queue 0 : {{.*}}
      // CHECK-NEXT: tile.dma [[XK]] -> [[X]] queue 1 : {{.*}}
      tile.dma %wk -> %w queue 0 : !hbm_w -> !sb_w
      tile.dma %xk -> %x queue 1 : !hbm_x -> !sb_x
      // CHECK-NEXT: tile.matmul [[W]], [[X]] -> [[ACC]] accumulate = true : {{.*}}
      tile.matmul %w, %x -> %acc accumulate = true : !sb_w, !sb_x -> !ps
      // CHECK-NEXT: }
    }
    // Evacuate PSUM to SBUF (casting to bf16) and store.
    // CHECK-NEXT: [[O:%.*]] = tile.alloc address 1280 start_partition 0 : !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
    // CHECK-NEXT: tile.copy [[ACC]] -> [[O]] on vector : !tile.buffer<128x512xf32, psum, {{.*}}> -> !tile.buffer<128x512xbf16, sbuf, {{.*}}>
    %o = tile.alloc address 1280 start_partition 0 : !sb_x
    tile.copy %acc -> %o on vector : !ps -> !sb_x
    // CHECK-NEXT: [[CM:%.*]] = tile.view %[[C]] [[[M]], 0] : !tile.buffer<256x512xbf16, hbm> to !tile.buffer<128x512xbf16, hbm>
    // CHECK-NEXT: tile.dma [[O]] -> [[CM]] queue 2 : !tile.buffer<128x512xbf16, sbuf, {{.*}}> -> !tile.buffer<128x512xbf16, hbm>
    %cm = tile.view %c[%m, 0] : !hbm_c to !hbm_x
    tile.dma %o -> %cm queue 2 : !sb_x -> !hbm_x
    // CHECK-NEXT: tile.dealloc [[O]] : {{.*}}
    // CHECK-NEXT: tile.dealloc [[X]] : {{.*}}
    // CHECK-NEXT: tile.dealloc [[W]] : {{.*}}
    // CHECK-NEXT: tile.dealloc [[ACC]] : {{.*}}
    tile.dealloc %o : !sb_x
    tile.dealloc %x : !sb_x
    tile.dealloc %w : !sb_w
    tile.dealloc %acc : !ps
    // CHECK-NEXT: }
  }
  // CHECK-NEXT: func.return
  func.return
}

// A row-wise softmax-like epilogue on one [128, 512] tile, touching every compute op:
// y = exp(x - max(x)) / sum(...), plus a GELU with bias, a transpose and a memset.

!sb = !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!col = !tile.buffer<128x1xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!sb_t = !tile.buffer<128x64xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!ps_t = !tile.buffer<64x128xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!sb_i = !tile.buffer<128x512xi32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>

// CHECK-LABEL: func.func @compute_ops
func.func @compute_ops(%x: !sb, %y: !sb, %mx: !col, %sum: !col, %t: !sb_t, %pt: !ps_t, %i: !sb_i) {
  // CHECK-NEXT: tile.reduce max %{{.*}} axes [1] -> %{{.*}} on vector : !tile.buffer<128x512xf32, sbuf, {{.*}}> -> !tile.buffer<128x1xf32, sbuf, {{.*}}>
  tile.reduce max %x axes [1] -> %mx on vector : !sb -> !col
  // CHECK-NEXT: tile.tensor_scalar sub %{{.*}}, %{{.*}} -> %{{.*}} on vector : !tile.buffer<128x512xf32, {{.*}}>, !tile.buffer<128x1xf32, {{.*}}> -> !tile.buffer<128x512xf32, {{.*}}>
  tile.tensor_scalar sub %x, %mx -> %y on vector : !sb, !col -> !sb
  // CHECK-NEXT: tile.activation exp %{{.*}} -> %{{.*}} on scalar : !tile.buffer<128x512xf32, {{.*}}> -> !tile.buffer<128x512xf32, {{.*}}>
  tile.activation exp %y -> %y on scalar : !sb -> !sb
  // CHECK-NEXT: tile.reduce add %{{.*}} axes [1] -> %{{.*}} on vector : {{.*}}
  tile.reduce add %y axes [1] -> %sum on vector : !sb -> !col
  // CHECK-NEXT: tile.activation reciprocal %{{.*}} -> %{{.*}} on scalar : {{.*}}
  tile.activation reciprocal %sum -> %sum on scalar : !col -> !col
  // CHECK-NEXT: tile.tensor_scalar mul %{{.*}}, %{{.*}} -> %{{.*}} on gpsimd : {{.*}}
  tile.tensor_scalar mul %y, %sum -> %y on gpsimd : !sb, !col -> !sb
  // CHECK-NEXT: tile.tensor_scalar mul %{{.*}}, 1.250000e-01 -> %{{.*}} on scalar : !tile.buffer<128x512xf32, {{.*}}> -> !tile.buffer<128x512xf32, {{.*}}>
  tile.tensor_scalar mul %y, 0.125 -> %y on scalar : !sb -> !sb
  // CHECK-NEXT: tile.activation gelu_tanh %{{.*}} bias %{{.*}} scale 5.000000e-01 -> %{{.*}} on scalar : !tile.buffer<128x512xf32, {{.*}}>, !tile.buffer<128x1xf32, {{.*}}> -> !tile.buffer<128x512xf32, {{.*}}>
  tile.activation gelu_tanh %x bias %mx scale 0.5 -> %y on scalar : !sb, !col -> !sb
  // CHECK-NEXT: tile.reduce max %{{.*}} axes [1] negate -> %{{.*}} on vector : {{.*}}
  tile.reduce max %x axes [1] negate -> %mx on vector : !sb -> !col
  // CHECK-NEXT: tile.activation exp %{{.*}} bias %{{.*}} -> %{{.*}} accum %{{.*}} on scalar : !tile.buffer<128x512xf32, {{.*}}>, !tile.buffer<128x1xf32, {{.*}}> -> !tile.buffer<128x512xf32, {{.*}}>, !tile.buffer<128x1xf32, {{.*}}>
  tile.activation exp %x bias %mx -> %y accum %sum on scalar : !sb, !col -> !sb, !col
  // CHECK-NEXT: tile.activation exp %{{.*}} -> %{{.*}} accum %{{.*}} on scalar : !tile.buffer<128x512xf32, {{.*}}> -> !tile.buffer<128x512xf32, {{.*}}>, !tile.buffer<128x1xf32, {{.*}}>
  tile.activation exp %x -> %y accum %sum on scalar : !sb -> !sb, !col
  // CHECK-NEXT: tile.tensor_tensor add %{{.*}}, %{{.*}} -> %{{.*}} on vector : {{.*}}
  tile.tensor_tensor add %x, %y -> %y on vector : !sb, !sb -> !sb
  // CHECK-NEXT: tile.tensor_tensor bitwise_and %{{.*}}, %{{.*}} -> %{{.*}} on gpsimd : {{.*}}
  tile.tensor_tensor bitwise_and %i, %i -> %i on gpsimd : !sb_i, !sb_i -> !sb_i
  // CHECK-NEXT: tile.tensor_scalar shift_left %{{.*}}, 2.000000e+00 -> %{{.*}} on vector : {{.*}}
  tile.tensor_scalar shift_left %i, 2.0 -> %i on vector : !sb_i -> !sb_i
  // CHECK-NEXT: tile.tensor_tensor invert %{{.*}}, %{{.*}} -> %{{.*}} on vector : {{.*}}
  tile.tensor_tensor invert %i, %i -> %i on vector : !sb_i, !sb_i -> !sb_i
  // CHECK-NEXT: tile.copy %{{.*}} -> %{{.*}} on scalar : {{.*}}
  tile.copy %y -> %x on scalar : !sb -> !sb
  // In a loop, the odd runs on a second engine:
  // CHECK-NEXT: tile.copy %{{.*}} -> %{{.*}} on vector alternating scalar : {{.*}}
  tile.copy %y -> %x on vector alternating scalar : !sb -> !sb
  // CHECK-NEXT: tile.tensor_tensor add %{{.*}}, %{{.*}} -> %{{.*}} on gpsimd alternating vector : {{.*}}
  tile.tensor_tensor add %x, %y -> %y on gpsimd alternating vector : !sb, !sb -> !sb
  // CHECK-NEXT: tile.tensor_scalar mul %{{.*}}, 2.000000e+00 -> %{{.*}} on scalar alternating gpsimd : {{.*}}
  tile.tensor_scalar mul %x, 2.0 -> %y on scalar alternating gpsimd : !sb -> !sb
  // CHECK-NEXT: tile.transpose %{{.*}} -> %{{.*}} : !tile.buffer<128x64xbf16, sbuf, {{.*}}> -> !tile.buffer<64x128xf32, psum, {{.*}}>
  tile.transpose %t -> %pt : !sb_t -> !ps_t
  // CHECK-NEXT: tile.memset %{{.*}} value 0.000000e+00 on gpsimd : !tile.buffer<128x512xf32, {{.*}}>
  tile.memset %x value 0.0 on gpsimd : !sb
  // CHECK-NEXT: tile.memset %{{.*}} value -1.000000e+00 on vector : !tile.buffer<128x512xi32, {{.*}}>
  tile.memset %i value -1.0 on vector : !sb_i
  // CHECK-NEXT: func.return
  func.return
}

// A select and an index tile: copy x to the PSUM tile where the ui8 mask is nonzero, back
// again, and an iota whose free parts are (d2, d1): value = p * 32 - 3 + 4 * d2 + d1.

!sel_x = !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!sel_m = !tile.buffer<128x512xui8, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!sel_p = !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!iota_i = !tile.buffer<128x4x8xi32, sbuf, #tile.layout<[d0, d1, d2] -> part(d0) free(d2, d1)>>

// CHECK-LABEL: func.func @select_and_iota
func.func @select_and_iota(%x: !sel_x, %m: !sel_m, %p: !sel_p, %i: !iota_i) {
  // CHECK-NEXT: tile.copy_predicated %{{.*}}, %{{.*}} -> %{{.*}} on vector : !tile.buffer<128x512xf32, sbuf, {{.*}}>, !tile.buffer<128x512xui8, sbuf, {{.*}}> -> !tile.buffer<128x512xf32, psum, {{.*}}>
  tile.copy_predicated %x, %m -> %p on vector : !sel_x, !sel_m -> !sel_p
  // CHECK-NEXT: tile.copy_predicated %{{.*}}, %{{.*}} -> %{{.*}} on vector : !tile.buffer<128x512xf32, psum, {{.*}}>, !tile.buffer<128x512xui8, sbuf, {{.*}}> -> !tile.buffer<128x512xf32, sbuf, {{.*}}>
  tile.copy_predicated %p, %m -> %x on vector : !sel_p, !sel_m -> !sel_x
  // CHECK-NEXT: tile.iota %{{.*}} base -3 channel_multiplier 32 pattern [[4, 8], [1, 4]] on gpsimd : !tile.buffer<128x4x8xi32, sbuf, #tile.layout<[d0, d1, d2] -> part(d0) free(d2, d1)>>
  tile.iota %i base -3 channel_multiplier 32 pattern [[4, 8], [1, 4]] on gpsimd : !iota_i
  // CHECK-NEXT: tile.iota %{{.*}} base 0 channel_multiplier 0 pattern [[1, 512]] on gpsimd : !tile.buffer<128x512xf32, sbuf, {{.*}}>
  tile.iota %x base 0 channel_multiplier 0 pattern [[1, 512]] on gpsimd : !sel_x
  // CHECK-NEXT: func.return
  func.return
}

// Matmuls into views of one wide PSUM buffer: a static view at column 512 of a 128x1024
// f32 buffer at address 0 is bytes [2048, 4096), i.e. bank 1; a view at a dynamic column
// offset is accepted when its 1 KiB per partition fits in one bank.

!ps_wide = !tile.buffer<128x1024xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!ps_half = !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!ps_quarter = !tile.buffer<128x256xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!sb_w2 = !tile.buffer<128x128xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!sb_x2 = !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!sb_x3 = !tile.buffer<128x256xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>

// CHECK-LABEL: func.func @matmul_into_views
func.func @matmul_into_views(%w: !sb_w2, %x: !sb_x2, %x3: !sb_x3, %j: index) {
  // CHECK-NEXT: [[P:%.*]] = tile.alloc address 0 : !tile.buffer<128x1024xf32, psum, {{.*}}>
  %p = tile.alloc address 0 : !ps_wide
  // CHECK-NEXT: [[V:%.*]] = tile.view [[P]] [0, 512] : {{.*}}
  %v = tile.view %p[0, 512] : !ps_wide to !ps_half
  // CHECK-NEXT: tile.matmul %{{.*}}, %{{.*}} -> [[V]] accumulate = false : {{.*}}
  tile.matmul %w, %x -> %v accumulate = false : !sb_w2, !sb_x2 -> !ps_half
  // CHECK-NEXT: [[D:%.*]] = tile.view [[P]] [0, %{{.*}}] : {{.*}}
  %d = tile.view %p[0, %j] : !ps_wide to !ps_quarter
  // CHECK-NEXT: tile.matmul %{{.*}}, %{{.*}} -> [[D]] accumulate = true : {{.*}}
  tile.matmul %w, %x3 -> %d accumulate = true : !sb_w2, !sb_x3 -> !ps_quarter
  // CHECK-NEXT: func.return
  func.return
}

// -----

// A reshape that moves no data: the same HBM bytes, row-major, another shape.
// CHECK-LABEL: func.func @reinterpret(
func.func @reinterpret(%x: !tile.buffer<2x64x3xf32, hbm>) {
  // CHECK-NEXT: %{{.*}} = tile.reinterpret %{{.*}} : !tile.buffer<2x64x3xf32, hbm> to !tile.buffer<128x3xf32, hbm>
  %r = tile.reinterpret %x : !tile.buffer<2x64x3xf32, hbm> to !tile.buffer<128x3xf32, hbm>
  func.return
}

// On chip: the same bytes of each partition, the free dims reshaped (a padded image).
// CHECK-LABEL: func.func @reinterpret_on_chip(
func.func @reinterpret_on_chip() {
  %p = tile.alloc : !tile.buffer<3x35x34xf32, sbuf, #tile.layout<[d0, d1, d2] -> part(d0) free(d1, d2)>>
  // CHECK: tile.reinterpret %{{.*}} : !tile.buffer<3x35x34xf32, sbuf, #tile.layout<[d0, d1, d2] -> part(d0) free(d1, d2)>> to !tile.buffer<3x1190xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  %r = tile.reinterpret %p : !tile.buffer<3x35x34xf32, sbuf, #tile.layout<[d0, d1, d2] -> part(d0) free(d1, d2)>> to !tile.buffer<3x1190xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  tile.dealloc %p : !tile.buffer<3x35x34xf32, sbuf, #tile.layout<[d0, d1, d2] -> part(d0) free(d1, d2)>>
  func.return
}

// A strided window: every second row.
// CHECK-LABEL: func.func @strided_view(
func.func @strided_view(%x: !tile.buffer<256x64xf32, hbm>) {
  // CHECK-NEXT: %{{.*}} = tile.view %{{.*}} [1, 0] strides [2, 1] : !tile.buffer<256x64xf32, hbm> to !tile.buffer<128x64xf32, hbm>
  %v = tile.view %x[1, 0] strides [2, 1] : !tile.buffer<256x64xf32, hbm> to !tile.buffer<128x64xf32, hbm>
  func.return
}

// Rows of an HBM table picked by run-time i32 indices (the indirect DMA): one per partition.
// CHECK-LABEL: func.func @dma_gather(
func.func @dma_gather(%t: !tile.buffer<1000x64xf32, hbm>, %ids: !tile.buffer<128x1xi32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %rows: !tile.buffer<128x64xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // CHECK-NEXT: tile.dma_gather %{{.*}}[%{{.*}}] -> %{{.*}} queue 5 : !tile.buffer<1000x64xf32, hbm>, !tile.buffer<128x1xi32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x64xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  tile.dma_gather %t[%ids] -> %rows queue 5 : !tile.buffer<1000x64xf32, hbm>, !tile.buffer<128x1xi32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x64xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  // CHECK-NEXT: tile.dma_gather %{{.*}}[%{{.*}}] -> %{{.*}} : {{.*}}
  tile.dma_gather %t[%ids] -> %rows : !tile.buffer<1000x64xf32, hbm>, !tile.buffer<128x1xi32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x64xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}
