// RUN: trn-opt %s -p tile-balance-engines | filecheck %s
// RUN: trn-opt %s -p 'tile-balance-engines{engines=vector}' | filecheck %s --check-prefix=VECTOR
// RUN: not trn-opt %s -p 'tile-balance-engines{engines=tensor}' 2>&1 | filecheck %s --check-prefix=BAD
// RUN: trn-opt %s -p 'tile-balance-engines{alternate=false}' | filecheck %s --check-prefix=ONE

// Each copy, tensor_scalar, tensor_tensor and memset goes to the engine where it would
// finish first, counting the work already on each engine (the simulator's costs). A
// 2048-column fp32 tensor_tensor kept on VectorE by `tile.fixed_engine` busies it for
// 3.7 us, so the three PSUM evacuations (0.37 us each on ScalarE's faster clock) all go
// to ScalarE; GpSimdE cannot read PSUM, but it takes the SBUF -> SBUF copy and then the
// tensor_scalar, being the least loaded. The last copy is fixed on VectorE.

!ps = !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!sb = !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!wide = !tile.buffer<128x2048xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>

// CHECK-LABEL: func.func @evacuations
// CHECK:         tile.tensor_tensor add {{.*}} on vector {tile.fixed_engine}
// CHECK-NEXT:    tile.copy %p0 -> %s0 on scalar
// CHECK-NEXT:    tile.copy %p1 -> %s1 on scalar
// CHECK-NEXT:    tile.copy %p2 -> %s2 on scalar
// CHECK-NEXT:    tile.copy %s0 -> %s3 on gpsimd
// CHECK-NEXT:    tile.tensor_scalar mul %s1, 2.{{0*}}e+00 -> %s1 on gpsimd
// CHECK-NEXT:    tile.copy %p3 -> %s4 on vector {tile.fixed_engine}

// VECTOR:        tile.copy %p0 -> %s0 on vector
// VECTOR-NEXT:   tile.copy %p1 -> %s1 on vector
// VECTOR-NEXT:   tile.copy %p2 -> %s2 on vector
// VECTOR-NEXT:   tile.copy %s0 -> %s3 on vector
// VECTOR-NEXT:   tile.tensor_scalar mul {{.*}} on vector

// BAD: engines must name some of vector, scalar, gpsimd; got 'tensor'
func.func @evacuations(%a: !wide, %b: !wide, %c: !wide, %p0: !ps, %p1: !ps, %p2: !ps, %p3: !ps,
                       %s0: !sb, %s1: !sb, %s2: !sb, %s3: !sb, %s4: !sb) {
  tile.tensor_tensor add %a, %b -> %c on vector {tile.fixed_engine} : !wide, !wide -> !wide
  tile.copy %p0 -> %s0 on vector : !ps -> !sb
  tile.copy %p1 -> %s1 on vector : !ps -> !sb
  tile.copy %p2 -> %s2 on vector : !ps -> !sb
  tile.copy %s0 -> %s3 on vector : !sb -> !sb
  tile.tensor_scalar mul %s1, 2.0 -> %s1 on vector : !sb -> !sb
  tile.copy %p3 -> %s4 on vector {tile.fixed_engine} : !ps -> !sb
  func.return
}

// In a loop, an op's runs may alternate over two engines: eight PSUM evacuations finish
// sooner half on VectorE and half on ScalarE than all on ScalarE (the faster one), so
// the copy runs `on vector alternating scalar`; the copy in a one-trip loop stays on
// one engine (ScalarE, the faster). With alternate=false the eight go to ScalarE.
// (tile-to-isa.mlir shows the unrolled loop's engines.)

// CHECK-LABEL: func.func @loop
// CHECK:         tile.copy %{{.*}} -> %{{.*}} on vector alternating scalar
// CHECK:         tile.copy %{{.*}} -> %{{.*}} on scalar :

// ONE-LABEL: func.func @loop
// ONE:         tile.copy %{{.*}} -> %{{.*}} on scalar :
// ONE:         tile.copy %{{.*}} -> %{{.*}} on vector :

func.func @loop() {
  %c0 = arith.constant 0 : index
  %c8 = arith.constant 8 : index
  %c1 = arith.constant 1 : index
  %p = tile.alloc : !ps
  %s = tile.alloc : !sb
  %t = tile.alloc : !sb
  scf.for %i = %c0 to %c8 step %c1 {
    tile.copy %p -> %s on vector : !ps -> !sb
  }
  scf.for %i = %c0 to %c1 step %c1 {
    tile.copy %p -> %t on vector : !ps -> !sb
  }
  tile.dealloc %p : !ps
  tile.dealloc %s : !sb
  tile.dealloc %t : !sb
  func.return
}
