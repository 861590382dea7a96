package shaders

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gogpu/naga"
	"github.com/stretchr/testify/require"
)

// The kernels ops.Device needs, by the op they implement; a missing file fails here, before any
// GPU is involved.
var wantKernels = []string{
	"adamw", "add", "add_bias", "add_bias_backward", "add_inplace", "attn_softmax",
	"attn_softmax_backward", "copy", "cross_entropy", "cross_entropy_backward", "dropout",
	"dropout_backward", "embed", "embed_backward", "gelu", "gelu_backward", "layernorm",
	"layernorm_backward", "layernorm_backward_params", "matmul", "matmul_naive", "matmul_thin",
	"merge_heads", "scale", "scale_cols", "scale_cols_backward", "split_heads", "sum_squares",
	"weight_norm", "weight_norm_backward", "zero",
}

func TestNames(t *testing.T) {
	require.Equal(t, wantKernels, Names())
	_, err := Source("no_such_kernel")
	require.Error(t, err)
}

var (
	workgroupSize = regexp.MustCompile(`@workgroup_size\(([^)]*)\)`)
	workgroupVar  = regexp.MustCompile(`var<workgroup>\s+\w+\s*:\s*array<(f32|vec4<f32>),\s*([\w\s*]+)>`)
	constDecl     = regexp.MustCompile(`(?m)^const\s+(\w+)\s*:\s*u32\s*=\s*(\d+)u;`)
)

// TestKernelConventions checks every kernel against the project's rules: a header comment naming
// the kernel with its binding table, bindings in the order inputs, outputs, uniform (at most 8
// storage buffers), workgroup sizes given by override constants whose defaults stay within
// WebGPU's default limits (256 invocations, 16 KiB of workgroup memory), and that naga (the
// compiler gogpu uses natively) compiles the specialised module.
func TestKernelConventions(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			src, err := Source(name)
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(src, "// "+name+":"),
				"the header comment starts with the kernel's name")
			require.Contains(t, src, "Bindings:")
			require.Contains(t, src, "fn "+EntryPoint+"(")

			kinds, err := Bindings(src)
			require.NoError(t, err)
			require.LessOrEqual(t, len(kinds)-1, 8, "storage buffers per stage")
			for i, k := range kinds[:len(kinds)-1] {
				require.Contains(t, src, "//   "+strconv.Itoa(i)+" ", "binding %d (%v) in the header table", i, k)
			}

			overrides := Overrides(src)
			consts := map[string]string{}
			for _, m := range constDecl.FindAllStringSubmatch(src, -1) {
				consts[m[1]] = m[2]
			}
			// value evaluates a literal, an override or u32 const name, or a product of them.
			value := func(expr string) int {
				n := 1
				for _, f := range strings.Split(expr, "*") {
					f = strings.TrimSpace(f)
					if v, ok := overrides[f]; ok {
						f = v
					} else if v, ok := consts[f]; ok {
						f = v
					}
					require.Regexp(t, `^\d+u?$`, f, "a literal, an override or a const in %q", expr)
					v, err := strconv.Atoi(strings.TrimSuffix(f, "u"))
					require.NoError(t, err, expr)
					n *= v
				}
				return n
			}
			m := workgroupSize.FindStringSubmatch(src)
			require.NotNil(t, m, "a @workgroup_size")
			invocations := 1
			for _, dim := range strings.Split(m[1], ",") {
				dim = strings.TrimSpace(dim)
				_, isOverride := overrides[dim]
				require.True(t, isOverride, "workgroup size %q is an override constant", dim)
				invocations *= value(dim)
			}
			require.LessOrEqual(t, invocations, 256)
			shared := 0
			vars := workgroupVar.FindAllStringSubmatch(src, -1)
			for _, wm := range vars {
				size := 4
				if wm[1] == "vec4<f32>" {
					size = 16
				}
				shared += size * value(wm[2])
			}
			require.LessOrEqual(t, shared, 16<<10, "bytes of workgroup memory")
			require.Equal(t, strings.Count(src, "var<workgroup>"), len(vars),
				"every workgroup variable is an array of f32 or vec4<f32> the test can size")

			spec, err := Specialize(src, nil)
			require.NoError(t, err)
			require.NotContains(t, spec, "\noverride ")
			_, err = naga.Compile(spec)
			require.NoError(t, err)
		})
	}
}

func TestSpecialize(t *testing.T) {
	src, err := Source("sum_squares")
	require.NoError(t, err)
	require.Equal(t, map[string]string{"WG": "256u"}, Overrides(src))

	spec, err := Specialize(src, map[string]uint32{"WG": 64})
	require.NoError(t, err)
	require.Contains(t, spec, "\nconst WG: u32 = 64u;")
	require.NotContains(t, spec, "256u")
	_, err = naga.Compile(spec)
	require.NoError(t, err)

	spec, err = Specialize(src, nil)
	require.NoError(t, err)
	require.Contains(t, spec, "\nconst WG: u32 = 256u;")
	// Only the declaration changes.
	require.Equal(t, strings.Count(src, "\n"), strings.Count(spec, "\n"))

	_, err = Specialize(src, map[string]uint32{"WX": 8})
	require.ErrorContains(t, err, "WX")
}

func TestBindings(t *testing.T) {
	const (
		ro = "@group(0) @binding(%d) var<storage, read> a%d: array<f32>;\n"
		rw = "@group(0) @binding(%d) var<storage, read_write> b%d: array<f32>;\n"
		un = "@group(0) @binding(%d) var<uniform> p%d: P;\n"
	)
	build := func(decls ...string) string {
		var sb strings.Builder
		for i, d := range decls {
			sb.WriteString(strings.NewReplacer("%d", strconv.Itoa(i)).Replace(d))
		}
		return sb.String()
	}
	cases := []struct {
		name string
		src  string
		want []BindingKind
		err  string
	}{
		{"inputs outputs uniform", build(ro, ro, rw, un), []BindingKind{ReadOnly, ReadOnly, ReadWrite, Uniform}, ""},
		{"output only", build(rw, un), []BindingKind{ReadWrite, Uniform}, ""},
		{"input after output", build(rw, ro, un), nil, "after"},
		{"uniform not last", build(ro, un, rw), nil, "after"},
		{"no uniform", build(ro, rw), nil, "want the uniform"},
		{"two uniforms", build(ro, un, un), nil, "not last"},
		{"gap in numbering", strings.Replace(build(ro, rw, un), "binding(1)", "binding(5)", 1), nil, "position"},
		{"other group", strings.Replace(build(ro, un), "group(0) @binding(1)", "group(1) @binding(1)", 1), nil, "group"},
		{"none", "fn main() {}", nil, "no bindings"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Bindings(c.src)
			if c.err != "" {
				require.ErrorContains(t, err, c.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.want, got)
		})
	}
}

// TestIncludesExpand: kernels share the workgroup reductions, the dropout hash and the matmul
// operand loads through //#include lines; Source pastes lib/NAME.wgsl in, and an unknown include is an error.
func TestIncludesExpand(t *testing.T) {
	for _, tc := range []struct{ kernel, wants string }{
		{"layernorm", "fn reduce_sum("},
		{"cross_entropy", "fn reduce_max("},
		{"dropout_backward", "fn dropout_bits("},
		{"matmul", "fn op_a("},
		{"matmul_thin", "fn op_b("},
	} {
		src, err := Source(tc.kernel)
		require.NoError(t, err)
		require.Contains(t, src, tc.wants, tc.kernel)
		require.NotContains(t, src, "//#include", tc.kernel)
	}
	_, err := expandIncludes("k", "//#include no_such_lib\nfn main() {}\n")
	require.ErrorContains(t, err, `includes "no_such_lib"`)
}
