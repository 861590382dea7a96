package bitexact

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// allowedMath lists the package math identifiers the training path may use: functions whose results IEEE 754
// (or plain bit manipulation) defines exactly, so they give the same bits on every platform, and
// constants. Everything else (Exp, Log, Tanh, Pow, Erf, ...) differs between Go's amd64 assembly
// and its pure-Go wasm code; package ops has Exp32, Log32 and Tanh32 instead.
var allowedMath = map[string]bool{
	// Exact functions.
	"Sqrt": true, "Abs": true, "Copysign": true, "Signbit": true,
	"Float32bits": true, "Float32frombits": true, "Float64bits": true, "Float64frombits": true,
	"Inf": true, "IsInf": true, "IsNaN": true, "NaN": true,
	"Floor": true, "Ceil": true, "Trunc": true, "Max": true, "Min": true,
	"Nextafter": true, "Nextafter32": true,
	// Constants.
	"E": true, "Pi": true, "Phi": true, "Sqrt2": true, "SqrtE": true, "SqrtPi": true,
	"SqrtPhi": true, "Ln2": true, "Log2E": true, "Ln10": true, "Log10E": true,
	"MaxFloat32": true, "SmallestNonzeroFloat32": true, "MaxFloat64": true,
	"SmallestNonzeroFloat64": true,
	"MaxInt":                 true, "MinInt": true, "MaxInt8": true, "MinInt8": true, "MaxInt16": true,
	"MinInt16": true, "MaxInt32": true, "MinInt32": true, "MaxInt64": true, "MinInt64": true,
	"MaxUint": true, "MaxUint8": true, "MaxUint16": true, "MaxUint32": true, "MaxUint64": true,
}

// forbiddenMath parses one Go source file and returns "file:line: math.X" for every use of a
// package math identifier outside allowedMath (calls and function values alike), whatever name
// the file imports math under. A dot import of math is reported too, since its uses cannot be
// told apart from local names.
func forbiddenMath(fset *token.FileSet, filename string, src any) ([]string, error) {
	f, err := parser.ParseFile(fset, filename, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	var bad []string
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		if path != "math" {
			continue
		}
		name := "math"
		if imp.Name != nil {
			name = imp.Name.Name
		}
		switch name {
		case "_":
		case ".":
			bad = append(bad, fset.Position(imp.Pos()).String()+": dot import of math")
		default:
			names[name] = true
		}
	}
	if len(names) == 0 {
		return bad, nil
	}
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		// A local variable shadowing the import name would be a false alarm here; pretune does
		// not name variables "math", so the simple syntactic check is enough.
		if id, ok := sel.X.(*ast.Ident); ok && names[id.Name] && !allowedMath[sel.Sel.Name] {
			bad = append(bad, fset.Position(sel.Pos()).String()+": math."+sel.Sel.Name)
		}
		return true
	})
	return bad, nil
}

// TestNoMath keeps the training path off package math's platform-dependent functions: every
// non-test file of every package on it (see trainingPath) is parsed and each forbidden use named
// with its file and line. The files in mayDiffer are skipped.
func TestNoMath(t *testing.T) {
	t.Run("training path", func(t *testing.T) {
		root := moduleRoot(t)
		fset := token.NewFileSet()
		var bad []string
		checked := map[string]bool{}
		for _, p := range trainingPath(t) {
			for _, name := range p.files {
				if differs(root, name) {
					continue
				}
				src, err := os.ReadFile(name)
				if err != nil {
					t.Fatal(err)
				}
				rel, _ := filepath.Rel(root, name)
				b, err := forbiddenMath(fset, filepath.ToSlash(rel), src)
				if err != nil {
					t.Fatalf("parse %s: %v", name, err)
				}
				bad = append(bad, b...)
				checked[filepath.ToSlash(rel)] = true
			}
		}
		// The file that defines the replacements, and one that calls them, must have been read.
		for _, f := range []string{"core/ops/fmath.go", "core/ops/gelu.go"} {
			if !checked[f] {
				t.Fatalf("%s was not scanned (%d files were): the listing is broken", f, len(checked))
			}
		}
		if len(bad) > 0 {
			t.Fatalf("the training path uses platform-dependent math functions (use ops.Exp32, ops.Log32, ops.Tanh32):\n%s",
				strings.Join(bad, "\n"))
		}
	})

	// The checker itself must catch what it is meant to catch.
	cases := []struct {
		name string
		src  string
		want []string
	}{
		{"plain call", "package p\nimport \"math\"\nfunc f(x float64) float64 {\n\treturn math.Exp(x)\n}\n",
			[]string{"x.go:4:9: math.Exp"}},
		{"renamed import", "package p\nimport m \"math\"\nvar g = m.Tanh\nvar h = m.Sqrt(2)\n",
			[]string{"x.go:3:9: math.Tanh"}},
		{"dot import", "package p\nimport . \"math\"\nvar g = Exp(1)\n",
			[]string{"x.go:2:8: dot import of math"}},
		{"allowed only", "package p\nimport \"math\"\nvar a = math.Sqrt(2) + math.MaxFloat32 + math.Abs(float64(math.Float32bits(1)))\n",
			nil},
		{"math/bits is another package", "package p\nimport \"math/bits\"\nvar a = bits.LeadingZeros(1)\n",
			nil},
		{"two offenders", "package p\nimport \"math\"\nvar a = math.Log(2)\nvar b = math.Pow(2, 3)\n",
			[]string{"x.go:3:9: math.Log", "x.go:4:9: math.Pow"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := forbiddenMath(token.NewFileSet(), "x.go", c.src)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}
