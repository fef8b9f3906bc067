// RUN: trn-opt %s --split-input-file --verify-diagnostics

// expected-error @+1 {{buffer shape rule}}
func.func private @bad_type_1(%a: !tile.buffer<0x4xbf16, hbm>)

// -----

// expected-error @+1 {{buffer element type rule}}
func.func private @bad_type_2(%a: !tile.buffer<4xindex, hbm>)

// -----

// Element types trn_isa does not support are rejected here too.
// expected-error @+1 {{buffer element type rule: expected one of f32, bf16, f16, f8E4M3FN, f8E4M3, f8E5M2, i32, ui32, i16, ui16, i8, ui8, got f64}}
func.func private @bad_type_f64(%a: !tile.buffer<4xf64, hbm>)

// -----

// expected-error @+1 {{buffer element type rule: expected one of}}
func.func private @bad_type_i64(%a: !tile.buffer<4xi64, hbm>)

// -----

// expected-error @+1 {{buffer element type rule: expected one of}}
func.func private @bad_type_i1(%a: !tile.buffer<128x4xi1, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>)

// -----

// expected-error @+1 {{buffer layout rule: sbuf buffers need a #tile.layout}}
func.func private @bad_type_3(%a: !tile.buffer<128x4xbf16, sbuf>)

// -----

// expected-error @+1 {{layout rank rule}}
func.func private @bad_type_4(%a: !tile.buffer<128xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>)

// -----

// expected-error @+1 {{layout coverage rule: d0 has size 1024 but its split factors 8x64 multiply to 512}}
func.func private @bad_type_5(%a: !tile.buffer<1024x4xbf16, sbuf, #tile.layout<[d0 : 8x64, d1] -> part(d0.1) free(d1) unroll(d0.0)>>)

// -----

// expected-error @+1 {{layout coverage rule: d0 is placed more than once}}
func.func private @bad_type_6(%a: !tile.buffer<128x4xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1, d0)>>)

// -----

// expected-error @+1 {{layout coverage rule: d1 is not placed}}
func.func private @bad_type_7(%a: !tile.buffer<128x4xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0)>>)

// -----

// expected-error @+1 {{layout split rule}}
func.func private @bad_type_8(%a: !tile.buffer<0x4xbf16, sbuf, #tile.layout<[d0 : 0x128, d1] -> part(d0.1) free(d1) unroll(d0.0)>>)

// -----

// expected-error @+1 {{partition extent rule: the layout puts 256 partitions, at most 128}}
func.func private @bad_type_9(%a: !tile.buffer<256x4xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>)

// -----

// expected-error @+1 {{capacity rule: 262144 bytes per partition exceed sbuf's 196608}}
func.func private @bad_type_10(%a: !tile.buffer<128x131072xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>)

// -----

// expected-error @+1 {{psum element type rule: psum buffers hold f32 or i32, got bf16}}
func.func private @bad_type_11(%a: !tile.buffer<128x512xbf16, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>)

// -----

// expected-error @+1 {{hbm layout rule}}
func.func private @bad_type_12(%a: !tile.buffer<128x4xbf16, hbm, #tile.layout<[d0, d1] -> part(d0) free(d1)>>)

// -----

func.func @bad_13() {
  // expected-error @+1 {{alloc memory rule: tile.alloc creates sbuf or psum buffers, got hbm}}
  %0 = tile.alloc : !tile.buffer<128x4xbf16, hbm>
  func.return
}

// -----

func.func @bad_14() {
  // expected-error @+1 {{address bounds rule: bytes [196000, 197024) of each partition exceed sbuf's 196608}}
  %0 = tile.alloc address 196000 : !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_15_depth() {
  // expected-error @+1 {{alloc depth rule: depth must be at least 1, got 0}}
  %0 = tile.alloc address 0 depth 0 : !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_15_depth_bounds() {
  // Three 1024-byte slots from 194560 run past the end of the partition.
  // expected-error @+1 {{address bounds rule: bytes [194560, 197632) of each partition exceed sbuf's 196608}}
  %0 = tile.alloc address 194560 depth 3 : !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_15_psum_slots() {
  // expected-error @+1 {{psum bank rule: rotating 1024-byte slots must start at a multiple of 1024 (no slot may cross a bank), got address 512}}
  %0 = tile.alloc address 512 depth 2 : !tile.buffer<128x256xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_15_queues(%a: !tile.buffer<128x512xbf16, hbm>, %b: !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{dma queue rule: queues 12..19 are not within 0..15}}
  tile.dma %a -> %b queue 12 queues 8 : !tile.buffer<128x512xbf16, hbm> -> !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_15() {
  // expected-error @+1 {{alignment rule: psum addresses are multiples of 4, got 2}}
  %0 = tile.alloc address 2 : !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_16() {
  // expected-error @+1 {{start-partition rule: an access over 40 partitions must start at partition 0 or 64, got 32}}
  %0 = tile.alloc start_partition 32 : !tile.buffer<40x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_17() {
  // expected-error @+1 {{psum bank rule: only psum buffers have a bank, got sbuf}}
  %0 = tile.alloc bank 1 : !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_18() {
  // expected-error @+1 {{psum bank rule: bank 8 is out of range 0..7}}
  %0 = tile.alloc bank 8 : !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_19() {
  // expected-error @+1 {{psum bank rule: address 4096 lies in bank 2, not 1}}
  %0 = tile.alloc address 4096 bank 1 : !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_20() {
  // expected-error @+1 {{psum bank rule: 4096 bytes per partition starting in bank 7 exceed psum's 16384}}
  %0 = tile.alloc bank 7 : !tile.buffer<128x1024xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_21(%a: !tile.buffer<4xf32, hbm>) {
  // expected-error @+1 {{dealloc memory rule}}
  tile.dealloc %a : !tile.buffer<4xf32, hbm>
  func.return
}

// -----

func.func @bad_22(%a: !tile.buffer<256x512xbf16, hbm>) {
  // expected-error @+1 {{view memory rule: a view stays in hbm, got sbuf}}
  %0 = tile.view %a[0, 0] : !tile.buffer<256x512xbf16, hbm> to !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_23(%a: !tile.buffer<256x512xbf16, hbm>) {
  // expected-error @+1 {{view element type rule: expected bf16, got f32}}
  %0 = tile.view %a[0, 0] : !tile.buffer<256x512xbf16, hbm> to !tile.buffer<128x512xf32, hbm>
  func.return
}

// -----

func.func @bad_24(%a: !tile.buffer<256x512xbf16, hbm>) {
  // expected-error @+1 {{view rank rule: source has rank 2 but the view has rank 1}}
  %0 = tile.view %a[0] : !tile.buffer<256x512xbf16, hbm> to !tile.buffer<128xbf16, hbm>
  func.return
}

// -----

func.func @bad_25(%a: !tile.buffer<256x512xbf16, hbm>) {
  // expected-error @+1 {{view offsets rule: expected 2 offsets, got 1}}
  %0 = tile.view %a[0] : !tile.buffer<256x512xbf16, hbm> to !tile.buffer<128x512xbf16, hbm>
  func.return
}

// -----

func.func @bad_26(%a: !tile.buffer<256x512xbf16, hbm>) {
  // expected-error @+1 {{view bounds rule: window [256, 768) of dim 1 exceeds the source's size 512}}
  %0 = tile.view %a[0, 256] : !tile.buffer<256x512xbf16, hbm> to !tile.buffer<128x512xbf16, hbm>
  func.return
}

// -----

func.func @bad_27(%a: !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{view layout rule: the view puts d1 on partitions but the source does not}}
  %0 = tile.view %a[0, 0] : !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> to !tile.buffer<128x128xbf16, sbuf, #tile.layout<[d0, d1] -> part(d1) free(d0)>>
  func.return
}

// -----

func.func @bad_28(%a: !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{start-partition rule: an access over 64 partitions must start at partition 0 or 64, got 32}}
  %0 = tile.view %a[32, 0] : !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> to !tile.buffer<64x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_29(%a: !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %b: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{connectivity rule: dma cannot read psum (source)}}
  tile.dma %a -> %b : !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_30(%a: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %b: !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{connectivity rule: dma cannot write psum (dest)}}
  tile.dma %a -> %b : !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_31(%a: !tile.buffer<128x256xbf16, hbm>, %b: !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{dma element count rule: source 128x256 has 32768 elements but dest 128x512 has 65536}}
  tile.dma %a -> %b : !tile.buffer<128x256xbf16, hbm> -> !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_32(%a: !tile.buffer<128x512xbf16, hbm>, %b: !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{dma queue rule: queue 16 is out of range 0..15}}
  tile.dma %a -> %b queue 16 : !tile.buffer<128x512xbf16, hbm> -> !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_33(%w: !tile.buffer<128x128xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %x: !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %acc: !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{connectivity rule: tensor cannot read psum (stationary)}}
  tile.matmul %w, %x -> %acc accumulate = false : !tile.buffer<128x128xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_34(%w: !tile.buffer<128x128xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %x: !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %acc: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{connectivity rule: tensor cannot write sbuf (accumulator)}}
  tile.matmul %w, %x -> %acc accumulate = false : !tile.buffer<128x128xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_35(%w: !tile.buffer<128x2x64xbf16, sbuf, #tile.layout<[d0, d1, d2] -> part(d0) free(d1, d2)>>, %x: !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %acc: !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{matmul rank rule: stationary must be 2-d, got 128x2x64}}
  tile.matmul %w, %x -> %acc accumulate = false : !tile.buffer<128x2x64xbf16, sbuf, #tile.layout<[d0, d1, d2] -> part(d0) free(d1, d2)>>, !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_36(%w: !tile.buffer<64x128xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %x: !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %acc: !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{matmul contraction mismatch: stationary has K=64 but moving has K=128}}
  tile.matmul %w, %x -> %acc accumulate = false : !tile.buffer<64x128xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_37(%w: !tile.buffer<128x128xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %x: !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %acc: !tile.buffer<128x256xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{matmul result shape mismatch: expected 128x512, got 128x256}}
  tile.matmul %w, %x -> %acc accumulate = false : !tile.buffer<128x128xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x256xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_38(%w: !tile.buffer<256x128xbf16, sbuf, #tile.layout<[d0 : 2x128, d1] -> part(d0.1) free(d1) unroll(d0.0)>>, %x: !tile.buffer<256x512xbf16, sbuf, #tile.layout<[d0 : 2x128, d1] -> part(d0.1) free(d1) unroll(d0.0)>>, %acc: !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{matmul contraction rule: K=256 exceeds 128}}
  tile.matmul %w, %x -> %acc accumulate = false : !tile.buffer<256x128xbf16, sbuf, #tile.layout<[d0 : 2x128, d1] -> part(d0.1) free(d1) unroll(d0.0)>>, !tile.buffer<256x512xbf16, sbuf, #tile.layout<[d0 : 2x128, d1] -> part(d0.1) free(d1) unroll(d0.0)>> -> !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_39(%w: !tile.buffer<128x256xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %x: !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %acc: !tile.buffer<256x512xf32, psum, #tile.layout<[d0 : 2x128, d1] -> part(d0.1) free(d1) unroll(d0.0)>>) {
  // expected-error @+1 {{matmul stationary rule: M=256 exceeds 128}}
  tile.matmul %w, %x -> %acc accumulate = false : !tile.buffer<128x256xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<256x512xf32, psum, #tile.layout<[d0 : 2x128, d1] -> part(d0.1) free(d1) unroll(d0.0)>>
  func.return
}

// -----

func.func @bad_40(%w: !tile.buffer<128x128xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %x: !tile.buffer<128x1024xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %acc: !tile.buffer<128x1024xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{matmul moving rule: N=1024 exceeds 512}}
  tile.matmul %w, %x -> %acc accumulate = false : !tile.buffer<128x128xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, !tile.buffer<128x1024xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x1024xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_41(%w: !tile.buffer<128x128xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %x: !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %acc: !tile.buffer<128x512xi32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{matmul accumulator type rule: the accumulator must be f32, got i32}}
  tile.matmul %w, %x -> %acc accumulate = false : !tile.buffer<128x128xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xi32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_42(%w: !tile.buffer<128x128xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %x: !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %acc: !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{matmul fp32 rule: fp32 inputs on both or neither, got stationary f32 and moving bf16}}
  tile.matmul %w, %x -> %acc accumulate = false : !tile.buffer<128x128xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_43(%w: !tile.buffer<128x128xbf16, sbuf, #tile.layout<[d0, d1] -> part(d1) free(d0)>>, %x: !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %acc: !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{matmul layout rule: stationary dim 0 (K) must be exactly the partition axis}}
  tile.matmul %w, %x -> %acc accumulate = false : !tile.buffer<128x128xbf16, sbuf, #tile.layout<[d0, d1] -> part(d1) free(d0)>>, !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_44(%w: !tile.buffer<128x128xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %x: !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  %acc = tile.alloc address 1024 : !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  // expected-error @+1 {{psum bank rule: accumulator touches bytes [1024, 3072) of each partition, which crosses a 2048-byte bank boundary}}
    tile.matmul %w, %x -> %acc accumulate = true : !tile.buffer<128x128xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_45(%t: !tile.buffer<128x64xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %p: !tile.buffer<64x128xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{connectivity rule: tensor cannot write sbuf (output)}}
  tile.transpose %t -> %p : !tile.buffer<128x64xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<64x128xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_46(%t: !tile.buffer<128x64xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %p: !tile.buffer<128x64xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{transpose shape mismatch: expected 64x128, got 128x64}}
  tile.transpose %t -> %p : !tile.buffer<128x64xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x64xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_47(%t: !tile.buffer<4x8x2xbf16, sbuf, #tile.layout<[d0, d1, d2] -> part(d0) free(d1, d2)>>, %p: !tile.buffer<64x128xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{transpose rank rule: input must be 2-d, got 4x8x2}}
  tile.transpose %t -> %p : !tile.buffer<4x8x2xbf16, sbuf, #tile.layout<[d0, d1, d2] -> part(d0) free(d1, d2)>> -> !tile.buffer<64x128xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_48(%t: !tile.buffer<128x256xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %p: !tile.buffer<256x128xf32, psum, #tile.layout<[d0 : 2x128, d1] -> part(d0.1) free(d1) unroll(d0.0)>>) {
  // expected-error @+1 {{transpose size rule: P=128 and F=256 must both be at most 128}}
  tile.transpose %t -> %p : !tile.buffer<128x256xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<256x128xf32, psum, #tile.layout<[d0 : 2x128, d1] -> part(d0.1) free(d1) unroll(d0.0)>>
  func.return
}

// -----

func.func @bad_49(%t: !tile.buffer<128x64xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %p: !tile.buffer<64x128xf32, psum, #tile.layout<[d0, d1] -> part(d1) free(d0)>>) {
  // expected-error @+1 {{transpose layout rule: output dim 0 (F) must be exactly the partition axis}}
  tile.transpose %t -> %p : !tile.buffer<128x64xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<64x128xf32, psum, #tile.layout<[d0, d1] -> part(d1) free(d0)>>
  func.return
}

// -----

func.func @bad_50(%x: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{engine rule: activation runs on scalar, got vector}}
  tile.activation relu %x -> %x on vector : !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_51(%x: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{engine rule: compute ops cannot run on dma}}
  tile.activation relu %x -> %x on dma : !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_52(%x: !tile.buffer<128x512xf32, hbm>, %y: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{connectivity rule: scalar cannot read hbm (input)}}
  tile.activation relu %x -> %y on scalar : !tile.buffer<128x512xf32, hbm> -> !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_53(%x: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %y: !tile.buffer<128x256xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{shape mismatch: input is 128x512 but output is 128x256}}
  tile.activation relu %x -> %y on scalar : !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x256xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_54(%x: !tile.buffer<128x128xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %y: !tile.buffer<128x128xf32, sbuf, #tile.layout<[d0, d1] -> part(d1) free(d0)>>) {
  // expected-error @+1 {{partition mapping rule: input and output must place the same dims on partitions}}
  tile.activation relu %x -> %y on scalar : !tile.buffer<128x128xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x128xf32, sbuf, #tile.layout<[d0, d1] -> part(d1) free(d0)>>
  func.return
}

// -----

func.func @bad_55(%x: !tile.buffer<128x65537xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{free size rule: input has 65537 elements per partition in sbuf, at most 65536 on scalar}}
  tile.activation relu %x -> %x on scalar : !tile.buffer<128x65537xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x65537xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_56(%x: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %b: !tile.buffer<64x1xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{per-partition scalar rule: bias must be [128, 1], got [64, 1]}}
  tile.activation exp %x bias %b -> %x on scalar : !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, !tile.buffer<64x1xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_57(%x: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{Expected `copy`, `relu`}}
  tile.activation swish %x -> %x on scalar : !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_58(%x: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{engine rule: tensor_tensor runs on vector or gpsimd, got scalar}}
  tile.tensor_tensor add %x, %x -> %x on scalar : !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_59(%x: !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %y: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{tensor_tensor psum rule: at most one input may be in psum, got both}}
  tile.tensor_tensor add %x, %x -> %y on vector : !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_60(%x: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %y: !tile.buffer<128x256xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{shape mismatch: lhs is 128x512 but rhs is 128x256}}
  tile.tensor_tensor add %x, %y -> %x on vector : !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, !tile.buffer<128x256xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_61(%x: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{bitvec rule: bitwise_or needs integer dtypes, lhs is f32}}
  tile.tensor_tensor bitwise_or %x, %x -> %x on vector : !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_62(%x: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{engine rule: tensor_scalar runs on vector or scalar or gpsimd, got tensor}}
  tile.tensor_scalar add %x, 1.0 -> %x on tensor : !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_63(%x: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %s: !tile.buffer<128x2xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{per-partition scalar rule: scalar must be [128, 1], got [128, 2]}}
  tile.tensor_scalar add %x, %s -> %x on vector : !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, !tile.buffer<128x2xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_64(%x: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{tensor_scalar operand rule: give exactly one of an immediate scalar or a [P, 1] scalar buffer}}
  "tile.tensor_scalar"(%x, %x) <{op = #tile<alu_op add>, engine = #tile<engine vector>}> : (!tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) -> ()
  func.return
}

// -----

func.func @bad_65(%x: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %r: !tile.buffer<128x1xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{engine rule: reduce runs on vector, got gpsimd}}
  tile.reduce add %x axes [1] -> %r on gpsimd : !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x1xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_66(%x: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %r: !tile.buffer<128x1xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{reduce op rule: div cannot reduce}}
  tile.reduce div %x axes [1] -> %r on vector : !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x1xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_67(%x: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %r: !tile.buffer<1x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{reduce axis rule: axes must be the trailing dims of a rank-2 input, got [0]}}
  tile.reduce add %x axes [0] -> %r on vector : !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<1x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_68(%x: !tile.buffer<128x4x8xf32, sbuf, #tile.layout<[d0, d1, d2] -> part(d0) free(d2, d1)>>, %r: !tile.buffer<128x4x1xf32, sbuf, #tile.layout<[d0, d1, d2] -> part(d0) free(d1, d2)>>) {
  // expected-error @+1 {{reduce axis rule: reduced dims [2] must be the innermost free parts of the input layout}}
  tile.reduce add %x axes [2] -> %r on vector : !tile.buffer<128x4x8xf32, sbuf, #tile.layout<[d0, d1, d2] -> part(d0) free(d2, d1)>> -> !tile.buffer<128x4x1xf32, sbuf, #tile.layout<[d0, d1, d2] -> part(d0) free(d1, d2)>>
  func.return
}

// -----

func.func @bad_69(%x: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %r: !tile.buffer<128x2xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{reduce shape mismatch: expected output 128x1, got 128x2}}
  tile.reduce add %x axes [1] -> %r on vector : !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x2xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_70(%x: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{engine rule: copy runs on vector or scalar or gpsimd, got tensor}}
  tile.copy %x -> %x on tensor : !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_71(%x: !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %y: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{connectivity rule: gpsimd cannot read psum (input)}}
  tile.copy %x -> %y on gpsimd : !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_alternate_reads_psum(%x: !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %y: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // The alternate engine must be allowed too:
  // expected-error @+1 {{connectivity rule: gpsimd cannot read psum (input)}}
  tile.copy %x -> %y on vector alternating gpsimd : !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_alternate_tensor_tensor(%x: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{engine rule: tensor_tensor runs on vector or gpsimd, got scalar}}
  tile.tensor_tensor add %x, %x -> %x on vector alternating scalar : !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_72(%x: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{engine rule: memset runs on vector or gpsimd, got scalar}}
  tile.memset %x value 0.0 on scalar : !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_73(%x: !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{connectivity rule: gpsimd cannot write psum (output)}}
  tile.memset %x value 0.0 on gpsimd : !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_74(%x: !tile.buffer<128x512xi32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{memset value rule: an integer buffer needs an integral value, got 0.5}}
  tile.memset %x value 5.000000e-01 on vector : !tile.buffer<128x512xi32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_75(%x: tensor<128x512xf32>) {
  // expected-error @+1 {{tensor<128x512xf32> should be of base attribute tile.buffer}}
  "tile.copy"(%x, %x) <{engine = #tile<engine vector>}> : (tensor<128x512xf32>, tensor<128x512xf32>) -> ()
  func.return
}

// -----

// Values that do not fit the i64 of a property are located errors, not crashes.

func.func @view_offset_overflow(%a: !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{invalid value: Integer value 1000000000000000000000000000000 is out of range for type i64}}
  %0 = tile.view %a[0, 1000000000000000000000000000000] : !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> to !tile.buffer<128x128xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @reduce_axes_overflow(%x: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %r: !tile.buffer<128x1xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{invalid value: an integer does not fit its type}}
  tile.reduce add %x axes [18446744073709551616] -> %r on vector : !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x1xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

// A 128x512 view at column 256 of a 128x1024 f32 PSUM buffer at address 0 covers bytes
// [1024, 3072) of each partition: it crosses from bank 0 into bank 1.
func.func @bank_through_view(%w: !tile.buffer<128x128xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %x: !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  %p = tile.alloc address 0 : !tile.buffer<128x1024xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  %v = tile.view %p[0, 256] : !tile.buffer<128x1024xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>> to !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  // expected-error @+1 {{psum bank rule: accumulator touches bytes [1024, 3072) of each partition, which crosses a 2048-byte bank boundary}}
  tile.matmul %w, %x -> %v accumulate = false : !tile.buffer<128x128xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

// Nested views add their offsets: column 128 + 128 = 256, as above.
func.func @bank_through_nested_views(%w: !tile.buffer<128x128xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %x: !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  %p = tile.alloc address 0 : !tile.buffer<128x1024xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  %u = tile.view %p[0, 128] : !tile.buffer<128x1024xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>> to !tile.buffer<128x896xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  %v = tile.view %u[0, 128] : !tile.buffer<128x896xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>> to !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  // expected-error @+1 {{psum bank rule: accumulator touches bytes [1024, 3072) of each partition}}
  tile.matmul %w, %x -> %v accumulate = false : !tile.buffer<128x128xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

// At a dynamic column offset the bank is unknown, so the accumulator must fit in one
// bank wherever it lands. In this source layout the columns are interleaved (d1.1 outer,
// d1.0 inner), so 512 consecutive columns spread over 4092 bytes of each partition.
func.func @bank_dynamic_view(%w: !tile.buffer<128x128xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %x: !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %j: index) {
  %p = tile.alloc address 0 : !tile.buffer<128x1024xf32, psum, #tile.layout<[d0, d1 : 2x512] -> part(d0) free(d1.1, d1.0)>>
  %v = tile.view %p[0, %j] : !tile.buffer<128x1024xf32, psum, #tile.layout<[d0, d1 : 2x512] -> part(d0) free(d1.1, d1.0)>> to !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  // expected-error @+1 {{psum bank rule: accumulator is a view at a dynamic free offset, so its 4092 bytes per partition must fit in one 2048-byte bank}}
  tile.matmul %w, %x -> %v accumulate = false : !tile.buffer<128x128xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @transpose_output_dtype(%t: !tile.buffer<128x64xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %p: !tile.buffer<64x128xi32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{psum output dtype rule: transpose writes f32 to psum, output is i32}}
  tile.transpose %t -> %p : !tile.buffer<128x64xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<64x128xi32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @reduce_abs_max(%x: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %r: !tile.buffer<128x1xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{reduce op rule: abs_max cannot reduce}}
  tile.reduce abs_max %x axes [1] -> %r on vector : !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x1xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @shift_float(%x: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{bitvec rule: logical_shift_right needs integer dtypes, input is f32}}
  tile.tensor_scalar logical_shift_right %x, 1.0 -> %x on vector : !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_reinterpret_memory(%a: !tile.buffer<128x4xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{reinterpret memory rule: the result must stay in sbuf, got hbm}}
  %0 = tile.reinterpret %a : !tile.buffer<128x4xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> to !tile.buffer<512xf32, hbm>
  func.return
}

// -----

func.func @bad_reinterpret_partitions(%a: !tile.buffer<128x4xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{reinterpret partition rule: on chip dim 0 stays, got 128 and 64}}
  %0 = tile.reinterpret %a : !tile.buffer<128x4xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> to !tile.buffer<64x8xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_reinterpret_layout(%a: !tile.buffer<128x4xf32, sbuf, #tile.layout<[d0, d1] -> part(d1) free(d0)>>) {
  // expected-error @+1 {{reinterpret layout rule: on chip the source must be partition-major}}
  %0 = tile.reinterpret %a : !tile.buffer<128x4xf32, sbuf, #tile.layout<[d0, d1] -> part(d1) free(d0)>> to !tile.buffer<128x2x2xf32, sbuf, #tile.layout<[d0, d1, d2] -> part(d0) free(d1, d2)>>
  func.return
}

// -----

func.func @bad_reinterpret_element(%a: !tile.buffer<128x4xf32, hbm>) {
  // expected-error @+1 {{reinterpret element type rule: expected f32, got bf16}}
  %0 = tile.reinterpret %a : !tile.buffer<128x4xf32, hbm> to !tile.buffer<512xbf16, hbm>
  func.return
}

// -----

func.func @bad_reinterpret_size(%a: !tile.buffer<128x4xf32, hbm>) {
  // expected-error @+1 {{reinterpret size rule: 128x4 and 500 have different element counts}}
  %0 = tile.reinterpret %a : !tile.buffer<128x4xf32, hbm> to !tile.buffer<500xf32, hbm>
  func.return
}

// -----

func.func @bad_view_strides(%a: !tile.buffer<256x512xbf16, hbm>) {
  // expected-error @+1 {{view strides rule: expected 2 strides >= 1, got [-1, 1]}}
  %0 = tile.view %a[0, 0] strides [-1, 1] : !tile.buffer<256x512xbf16, hbm> to !tile.buffer<128x512xbf16, hbm>
  func.return
}


// -----

// tile.copy_predicated and tile.iota.

func.func @bad_copy_predicated_engine(%x: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %m: !tile.buffer<128x512xui8, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{engine rule: copy_predicated runs on vector, got gpsimd}}
  tile.copy_predicated %x, %m -> %x on gpsimd : !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, !tile.buffer<128x512xui8, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_copy_predicated_dtype(%x: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %m: !tile.buffer<128x512xui8, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %y: !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{copy dtype rule: a predicated copy is bit-exact, input is f32 but output is bf16}}
  tile.copy_predicated %x, %m -> %y on vector : !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, !tile.buffer<128x512xui8, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_copy_predicated_f32_predicate(%x: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %m: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %y: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{predicate dtype rule: predicate must be ui8, ui16, ui32, got f32}}
  tile.copy_predicated %x, %m -> %y on vector : !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_copy_predicated_predicate_shape(%x: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %m: !tile.buffer<128x256xui8, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %y: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{shape mismatch: predicate is 128x256 but output is 128x512}}
  tile.copy_predicated %x, %m -> %y on vector : !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, !tile.buffer<128x256xui8, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_copy_predicated_predicate_lanes(%x: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %m: !tile.buffer<128x512xui8, sbuf, #tile.layout<[d0, d1 : 128x4] -> part(d1.1) free(d0, d1.0)>>, %y: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{partition mapping rule: predicate and output must place the same dims on partitions}}
  tile.copy_predicated %x, %m -> %y on vector : !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, !tile.buffer<128x512xui8, sbuf, #tile.layout<[d0, d1 : 128x4] -> part(d1.1) free(d0, d1.0)>> -> !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_copy_predicated_hbm(%x: !tile.buffer<128x512xf32, hbm>, %m: !tile.buffer<128x512xui8, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %y: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{connectivity rule: vector cannot read hbm (input)}}
  tile.copy_predicated %x, %m -> %y on vector : !tile.buffer<128x512xf32, hbm>, !tile.buffer<128x512xui8, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_iota_engine(%i: !tile.buffer<128x512xi32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{engine rule: iota runs on gpsimd, got vector}}
  tile.iota %i base 0 channel_multiplier 512 pattern [[1, 512]] on vector : !tile.buffer<128x512xi32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_iota_psum(%i: !tile.buffer<128x512xi32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{connectivity rule: gpsimd cannot write psum (output)}}
  tile.iota %i base 0 channel_multiplier 512 pattern [[1, 512]] on gpsimd : !tile.buffer<128x512xi32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_iota_counts(%i: !tile.buffer<128x512xi32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{iota pattern rule: the counts [256] must be the extents of the output's free parts, [512]}}
  tile.iota %i base 0 channel_multiplier 512 pattern [[1, 256]] on gpsimd : !tile.buffer<128x512xi32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_iota_free_order(%i: !tile.buffer<128x4x8xi32, sbuf, #tile.layout<[d0, d1, d2] -> part(d0) free(d2, d1)>>) {
  // expected-error @+1 {{iota pattern rule: the counts [4, 8] must be the extents of the output's free parts, [8, 4]}}
  tile.iota %i base 0 channel_multiplier 32 pattern [[8, 4], [1, 8]] on gpsimd : !tile.buffer<128x4x8xi32, sbuf, #tile.layout<[d0, d1, d2] -> part(d0) free(d2, d1)>>
  func.return
}

// -----

func.func @bad_iota_unrolled(%i: !tile.buffer<256x512xi32, sbuf, #tile.layout<[d0 : 2x128, d1] -> part(d0.1) free(d1) unroll(d0.0)>>) {
  // expected-error @+1 {{iota layout rule: the output must not be unrolled}}
  tile.iota %i base 0 channel_multiplier 512 pattern [[1, 512]] on gpsimd : !tile.buffer<256x512xi32, sbuf, #tile.layout<[d0 : 2x128, d1] -> part(d0.1) free(d1) unroll(d0.0)>>
  func.return
}

// -----

func.func @bad_iota_pattern_generic(%i: !tile.buffer<128x512xi32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{iota pattern rule: 1 steps but 2 counts}}
  "tile.iota"(%i) <{steps = array<i64: 1>, counts = array<i64: 512, 1>, base = 0 : i64, channel_multiplier = 0 : i64, engine = #tile<engine gpsimd>}> : (!tile.buffer<128x512xi32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) -> ()
  func.return
}

// -----

func.func @bad_gather_space(%t: !tile.buffer<10x8xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %ids: !tile.buffer<4x1xi32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %rows: !tile.buffer<4x8xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{dma gather rule: the table must be in hbm, indices and dest in sbuf, got sbuf, sbuf, sbuf}}
  tile.dma_gather %t[%ids] -> %rows : !tile.buffer<10x8xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, !tile.buffer<4x1xi32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<4x8xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_gather_indices(%t: !tile.buffer<10x8xf32, hbm>, %ids: !tile.buffer<4x1xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %rows: !tile.buffer<4x8xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{dma gather rule: indices must be i32 [4, 1] (one per dest row), got 4x1xf32}}
  tile.dma_gather %t[%ids] -> %rows : !tile.buffer<10x8xf32, hbm>, !tile.buffer<4x1xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<4x8xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_gather_dest(%t: !tile.buffer<10x8xf32, hbm>, %ids: !tile.buffer<4x1xi32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %rows: !tile.buffer<4x8xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{dma gather rule: dest must be [4, 8] of the table's f32, got 4x8xbf16}}
  tile.dma_gather %t[%ids] -> %rows : !tile.buffer<10x8xf32, hbm>, !tile.buffer<4x1xi32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<4x8xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_gather_rank(%t: !tile.buffer<10x8x2xf32, hbm>, %ids: !tile.buffer<4x1xi32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %rows: !tile.buffer<4x8xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{dma gather rule: table, indices and dest must be 2-D, got 10x8x2, 4x1, 4x8}}
  tile.dma_gather %t[%ids] -> %rows : !tile.buffer<10x8x2xf32, hbm>, !tile.buffer<4x1xi32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<4x8xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_accum_type(%x: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %s: !tile.buffer<128x1xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{activation accum rule: the sums are f32, got bf16}}
  tile.activation exp %x -> %x accum %s on scalar : !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, !tile.buffer<128x1xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}

// -----

func.func @bad_accum_shape(%x: !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, %s: !tile.buffer<128x2xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>) {
  // expected-error @+1 {{per-partition scalar rule: accum must be [128, 1], got [128, 2]}}
  tile.activation exp %x -> %x accum %s on scalar : !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>> -> !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>, !tile.buffer<128x2xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
  func.return
}
