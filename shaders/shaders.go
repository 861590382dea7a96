// Package shaders holds pretune's WGSL compute kernels, one file per kernel named after the
// ops.Device op it implements (matmul.wgsl, layernorm_backward.wgsl, ...). They live in their
// own package because //go:embed cannot reach a parent directory; package webgpu compiles them.
//
// Every kernel follows one shape: a header comment with the math, the dimension letters, the
// dispatch and the binding table (inputs first, then outputs, the uniform of sizes last, all in
// group 0); an entry point named main; workgroup sizes declared as `override` constants with
// their default values; and a bounds check in every invocation.
package shaders

import (
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

//go:embed *.wgsl lib/*.wgsl
var files embed.FS

// EntryPoint is the name of every kernel's compute entry point.
const EntryPoint = "main"

// Names lists the kernels (file names without .wgsl), sorted.
func Names() []string {
	entries, err := fs.Glob(files, "*.wgsl")
	if err != nil {
		panic(err) // the pattern is constant and valid
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = strings.TrimSuffix(e, ".wgsl")
	}
	sort.Strings(names)
	return names
}

// Source returns the WGSL text of the named kernel, with its includes expanded.
func Source(name string) (string, error) {
	b, err := files.ReadFile(name + ".wgsl")
	if err != nil {
		return "", fmt.Errorf("shaders: no kernel %q", name)
	}
	return expandIncludes(name, string(b))
}

// includeLine matches a `//#include NAME` line. WGSL has no way to share code between modules,
// so code several kernels need (the workgroup reductions, the dropout hash that must equal
// ops.DropoutBits) lives once in lib/NAME.wgsl and is pasted in at that line.
var includeLine = regexp.MustCompile(`(?m)^//#include (\w+)[ \t]*$`)

func expandIncludes(kernel, src string) (string, error) {
	var missing error
	out := includeLine.ReplaceAllStringFunc(src, func(line string) string {
		lib := includeLine.FindStringSubmatch(line)[1]
		b, err := files.ReadFile("lib/" + lib + ".wgsl")
		if err != nil && missing == nil {
			missing = fmt.Errorf("shaders: kernel %s includes %q, which is not in shaders/lib", kernel, lib)
		}
		return strings.TrimRight(string(b), "\n")
	})
	return out, missing
}

// overrideDecl matches a module-scope override declaration with a default value, the only form
// the kernels use: `override NAME: TYPE = VALUE;`.
var overrideDecl = regexp.MustCompile(`(?m)^override\s+(\w+)\s*:\s*(\w+)\s*=\s*([^;]+);`)

// Overrides returns the kernel's override constants with their default values.
func Overrides(src string) map[string]string {
	out := map[string]string{}
	for _, m := range overrideDecl.FindAllStringSubmatch(src, -1) {
		out[m[1]] = strings.TrimSpace(m[3])
	}
	return out
}

// Specialize turns every `override NAME: T = default;` declaration of src into
// `const NAME: T = value;`, with value taken from values (a u32 constant) or else the default.
//
// This is how pipeline constants are applied: the shader compiler inside gogpu/wgpu v0.31.5
// (naga) cannot lower override expressions ("unsupported expression kind: ir.ExprOverride"), and
// its browser backend drops ComputePipelineDescriptor.Constants. Rewriting the declaration keeps
// the kernels written with overrides, as WebGPU intends, and gives the same module on both
// backends. Only the declaration line changes; a name in values that src does not declare is an
// error, so a typo cannot silently keep a default.
func Specialize(src string, values map[string]uint32) (string, error) {
	declared := Overrides(src)
	for name := range values {
		if _, ok := declared[name]; !ok {
			return "", fmt.Errorf("shaders: no override %q to specialize", name)
		}
	}
	out := overrideDecl.ReplaceAllStringFunc(src, func(decl string) string {
		m := overrideDecl.FindStringSubmatch(decl)
		val := m[3]
		if v, ok := values[m[1]]; ok {
			val = strconv.FormatUint(uint64(v), 10) + "u"
		}
		return "const " + m[1] + ": " + m[2] + " = " + strings.TrimSpace(val) + ";"
	})
	return out, nil
}

// BindingKind is how a kernel binds one buffer.
type BindingKind int

const (
	// ReadOnly is `var<storage, read>`: an input.
	ReadOnly BindingKind = iota
	// ReadWrite is `var<storage, read_write>`: an output, or an input updated in place.
	ReadWrite
	// Uniform is `var<uniform>`: the kernel's sizes and scalars.
	Uniform
)

func (k BindingKind) String() string {
	switch k {
	case ReadOnly:
		return "read"
	case ReadWrite:
		return "read_write"
	case Uniform:
		return "uniform"
	}
	return "unknown"
}

var bindingDecl = regexp.MustCompile(
	`@group\((\d+)\)\s*@binding\((\d+)\)\s*var<\s*(uniform|storage\s*,\s*read_write|storage\s*,\s*read|storage)\s*>`)

// Bindings returns the kernel's binding table in binding order, checking the convention that
// the host relies on to build bind group layouts from the source alone: one group (0), bindings
// numbered 0..n-1, read-only storage buffers first, then read_write ones, then exactly one
// uniform, last.
func Bindings(src string) ([]BindingKind, error) {
	ms := bindingDecl.FindAllStringSubmatch(src, -1)
	if len(ms) == 0 {
		return nil, fmt.Errorf("shaders: no bindings")
	}
	kinds := make([]BindingKind, len(ms))
	for i, m := range ms {
		if m[1] != "0" {
			return nil, fmt.Errorf("shaders: binding in group %s, want 0", m[1])
		}
		if m[2] != strconv.Itoa(i) {
			return nil, fmt.Errorf("shaders: binding %s declared in position %d", m[2], i)
		}
		switch strings.Join(strings.Fields(strings.ReplaceAll(m[3], ",", " ")), " ") {
		case "uniform":
			kinds[i] = Uniform
		case "storage read_write":
			kinds[i] = ReadWrite
		default: // "storage read" and plain "storage", whose access mode defaults to read
			kinds[i] = ReadOnly
		}
		if i > 0 && kinds[i] < kinds[i-1] {
			return nil, fmt.Errorf("shaders: binding %d (%v) after a %v binding: want inputs, outputs, uniform", i, kinds[i], kinds[i-1])
		}
	}
	for i, k := range kinds {
		if k == Uniform && i != len(kinds)-1 {
			return nil, fmt.Errorf("shaders: uniform at binding %d is not last", i)
		}
	}
	if kinds[len(kinds)-1] != Uniform {
		return nil, fmt.Errorf("shaders: last binding is %v, want the uniform", kinds[len(kinds)-1])
	}
	return kinds, nil
}
