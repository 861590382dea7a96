// Package wasmsimd writes the one WebAssembly module the CPU device uses for its matmul and GELU
// when it runs as wasm in a browser or Node: kernels in WebAssembly's 128-bit SIMD, which Go's
// wasm port cannot emit (it compiles to scalar code only). The module is built here, byte by
// byte, from the instructions below, so the project ships no binary and needs no assembler; the
// device compiles it at first use against Go's own memory (see core/ops/simd_js.go).
//
// This file is the assembler: just the encodings the kernels use (WebAssembly core spec §5,
// the SIMD proposal's opcodes, now in the standard).
package wasmsimd

// code is a function body being written: plain bytes with helpers that append one instruction.
type code struct{ b []byte }

func uleb(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func sleb(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// Value types.
const (
	i32  = 0x7f
	v128 = 0x7b
)

// Plain opcodes.
const (
	opBlock    = 0x02
	opLoop     = 0x03
	opIf       = 0x04
	opEnd      = 0x0b
	opBr       = 0x0c
	opBrIf     = 0x0d
	opLocalGet = 0x20
	opLocalSet = 0x21
	opLocalTee = 0x22
	opI32Const = 0x41
	opI32Eqz   = 0x45
	opI32GeU   = 0x4f
	opI32Add   = 0x6a
	opI32Sub   = 0x6b
	opI32Mul   = 0x6c
	opI32Shl   = 0x74
	blockEmpty = 0x40
)

// SIMD opcodes (after the 0xfd prefix, as a LEB128 number).
const (
	simdPrefix     = 0xfd
	simdLoad       = 0x00 // v128.load
	simdLoad32Spl  = 0x09 // v128.load32_splat
	simdStore      = 0x0b // v128.store
	simdConst      = 0x0c // v128.const
	simdF32x4Add   = 0xe4
	simdF32x4Sub   = 0xe5
	simdF32x4Mul   = 0xe6
	simdF32x4Ne    = 0x42
	simdLoad64Zero = 0x5d // v128.load64_zero: two floats into lanes 0 and 1
	simdStore64Ln  = 0x5b // v128.store64_lane: lanes 0 and 1 of f32x4 (as 64-bit lane 0)
	simdBitselect  = 0x52
	simdF64x2Lt    = 0x49
	simdF64x2Gt    = 0x4a
	simdF64x2Ge    = 0x4c
	simdF64x2Neg   = 0xed
	simdF64x2Add   = 0xf0
	simdF64x2Sub   = 0xf1
	simdF64x2Mul   = 0xf2
	simdF64x2Div   = 0xf3
	simdF64x2Trunc = 0x7a
	simdDemote     = 0x5e // f32x4.demote_f64x2_zero
	simdPromote    = 0x5f // f64x2.promote_low_f32x4
	simdTruncSatZ  = 0xfc // i32x4.trunc_sat_f64x2_s_zero
	simdExtendLowS = 0xc7 // i64x2.extend_low_i32x4_s
	simdI64x2Add   = 0xce
	simdI64x2Shl   = 0xcb
	alignF32       = 2 // log2 of the alignment hint: floats are 4-byte aligned
	alignV128Float = 2 // a v128 of floats is only known to be 4-byte aligned (a hint, not a trap)
)

func (c *code) op(o byte)      { c.b = append(c.b, o) }
func (c *code) get(l int)      { c.b = uleb(append(c.b, opLocalGet), uint64(l)) }
func (c *code) set(l int)      { c.b = uleb(append(c.b, opLocalSet), uint64(l)) }
func (c *code) tee(l int)      { c.b = uleb(append(c.b, opLocalTee), uint64(l)) }
func (c *code) i32(v int32)    { c.b = sleb(append(c.b, opI32Const), int64(v)) }
func (c *code) block()         { c.b = append(c.b, opBlock, blockEmpty) }
func (c *code) loop()          { c.b = append(c.b, opLoop, blockEmpty) }
func (c *code) ifThen()        { c.b = append(c.b, opIf, blockEmpty) }
func (c *code) end()           { c.op(opEnd) }
func (c *code) br(depth int)   { c.b = uleb(append(c.b, opBr), uint64(depth)) }
func (c *code) brIf(depth int) { c.b = uleb(append(c.b, opBrIf), uint64(depth)) }
func (c *code) simd(o uint32)  { c.b = uleb(append(c.b, simdPrefix), uint64(o)) }
func (c *code) memarg(align, off int) {
	c.b = uleb(uleb(c.b, uint64(align)), uint64(off))
}

// loadV128 pushes the 16 bytes at the address on the stack plus off.
func (c *code) loadV128(off int) { c.simd(simdLoad); c.memarg(alignV128Float, off) }

// storeV128 stores the v128 on top of the stack at the address below it plus off.
func (c *code) storeV128(off int) { c.simd(simdStore); c.memarg(alignV128Float, off) }

// splatF32 pushes the float at the address on the stack plus off, in all four lanes.
func (c *code) splatF32(off int) { c.simd(simdLoad32Spl); c.memarg(alignF32, off) }

// zeroV128 pushes four +0.0 lanes.
func (c *code) zeroV128() { c.simd(simdConst); c.b = append(c.b, make([]byte, 16)...) }

func (c *code) addF32x4() { c.simd(simdF32x4Add) }
func (c *code) mulF32x4() { c.simd(simdF32x4Mul) }

// addLocal sets local l to l + v (i32) for a local v.
func (c *code) addLocal(l, v int) { c.get(l); c.get(v); c.op(opI32Add); c.set(l) }

// constV128 pushes 16 bytes, lane 0 first (little-endian, as WebAssembly stores them).
func (c *code) constV128(b [16]byte) { c.simd(simdConst); c.b = append(c.b, b[:]...) }

// function is one function of a module: its parameter count (all i32), its extra i32 locals and
// its v128 locals (numbered after the i32 ones), and its code.
type function struct {
	export string
	params int
	i32s   int
	v128s  int
	code   code
}

// module writes a module importing env.mem and exporting fns, each a function of i32 parameters
// returning nothing.
func module(fns ...*function) []byte {
	mod := []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}
	// Type section: type i is function i's (params × i32) -> ().
	var types []byte
	types = uleb(types, uint64(len(fns)))
	for _, f := range fns {
		types = append(types, 0x60)
		types = uleb(types, uint64(f.params))
		for range f.params {
			types = append(types, i32)
		}
		types = uleb(types, 0)
	}
	mod = section(mod, 1, types)
	// Import section: env.mem, a memory of at least 0 pages and no maximum, which any memory
	// satisfies.
	var imports []byte
	imports = uleb(imports, 1)
	imports = name(imports, "env")
	imports = name(imports, "mem")
	imports = append(imports, 0x02, 0x00) // memory, limits without a maximum
	imports = uleb(imports, 0)
	mod = section(mod, 2, imports)
	// Function section: function i has type i.
	funcs := uleb(nil, uint64(len(fns)))
	for i := range fns {
		funcs = uleb(funcs, uint64(i))
	}
	mod = section(mod, 3, funcs)
	exports := uleb(nil, uint64(len(fns)))
	for i, f := range fns {
		exports = name(exports, f.export)
		exports = append(exports, 0x00) // a function
		exports = uleb(exports, uint64(i))
	}
	mod = section(mod, 7, exports)
	codeSec := uleb(nil, uint64(len(fns)))
	for _, f := range fns {
		var body []byte
		body = uleb(body, 2)
		body = uleb(body, uint64(f.i32s))
		body = append(body, i32)
		body = uleb(body, uint64(f.v128s))
		body = append(body, v128)
		body = append(body, f.code.b...)
		body = append(body, opEnd)
		codeSec = uleb(codeSec, uint64(len(body)))
		codeSec = append(codeSec, body...)
	}
	return section(mod, 10, codeSec)
}

// section appends a section with its id and size.
func section(out []byte, id byte, body []byte) []byte {
	out = append(out, id)
	out = uleb(out, uint64(len(body)))
	return append(out, body...)
}

// name appends a length-prefixed UTF-8 name.
func name(b []byte, s string) []byte { return append(uleb(b, uint64(len(s))), s...) }
