package permission

import (
	"fmt"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"

	"github.com/atrium-dev/atrium/internal/auth"
)

// Limits on CEL expressions. Policy files are written by administrators,
// but a typo should cost an error, not a stuck request.
const (
	maxExprBytes = 4 << 10
	// maxExprDepth bounds the nesting of an expression. Checking nested
	// comprehensions costs time polynomial in their depth; policy
	// expressions need a handful of levels.
	maxExprDepth = 32
	// maxExprCost bounds the work of one evaluation, in CEL's cost units
	// (roughly one per operation and per list element visited).
	maxExprCost = 1_000_000
)

// celEnv identifies one of the two CEL environments.
type celEnv int

const (
	// principalEnv is for a rule's `when`: it sees the principal only.
	principalEnv celEnv = iota
	// resourceEnv is for `expr` conditions: the principal and the entity.
	resourceEnv
)

// envs builds the CEL environments once; building one takes milliseconds.
var envs = sync.OnceValues(func() ([2]*cel.Env, error) {
	dyn := cel.MapType(cel.StringType, cel.DynType)
	limits := []cel.EnvOption{cel.ParserExpressionSizeLimit(maxExprBytes), cel.ParserRecursionLimit(maxExprDepth)}
	p, err := cel.NewEnv(append(limits, cel.Variable("principal", dyn))...)
	if err != nil {
		return [2]*cel.Env{}, err
	}
	r, err := p.Extend(cel.Variable("resource", dyn))
	return [2]*cel.Env{p, r}, err
})

// exprError is a CEL compile error, with its place in the expression.
type exprError struct {
	line, column int // 1-based, in the expression
	msg          string
}

func (e *exprError) Error() string {
	if e.line <= 0 { // limits exceeded have no place
		return "CEL: " + e.msg
	}
	return fmt.Sprintf("CEL: %s (at line %d, column %d of the expression)", e.msg, e.line, e.column)
}

// compile compiles src in env and checks that it returns a bool.
func compile(env celEnv, src string) (cel.Program, error) {
	es, err := envs()
	if err != nil {
		return nil, fmt.Errorf("permission: CEL environment: %w", err)
	}
	if strings.TrimSpace(src) == "" {
		return nil, fmt.Errorf("CEL: empty expression")
	}
	if len(src) > maxExprBytes {
		return nil, fmt.Errorf("CEL: expression longer than %d bytes", maxExprBytes)
	}
	ast, iss := es[env].Compile(src)
	if iss.Err() != nil {
		errs := iss.Errors()
		if len(errs) == 0 {
			return nil, fmt.Errorf("CEL: %w", iss.Err())
		}
		// The first error is the one to fix; later ones often follow from it.
		loc := errs[0].Location
		return nil, &exprError{line: loc.Line(), column: loc.Column() + 1, msg: errs[0].Message}
	}
	if !ast.OutputType().IsExactType(cel.BoolType) {
		return nil, fmt.Errorf("CEL: expression must return a bool, returns %s", ast.OutputType())
	}
	prog, err := es[env].Program(ast, cel.CostLimit(maxExprCost))
	if err != nil {
		return nil, fmt.Errorf("CEL: %w", err)
	}
	return prog, nil
}

// evalBool runs a program compiled by compile.
func evalBool(prog cel.Program, vars map[string]any) (bool, error) {
	out, _, err := prog.Eval(vars)
	if err != nil {
		return false, fmt.Errorf("permission: CEL: %w", err)
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("permission: CEL: expression returned %v, not a bool", out.Type())
	}
	return b, nil
}

// principalValue is the `principal` variable of CEL expressions. Every key
// is always present, so that expressions need no has() checks.
func principalValue(id auth.Identity) map[string]any {
	return map[string]any{
		"kind":      id.Kind,
		"userRef":   id.UserRef,
		"ownership": ownershipOf(id),
		"subject":   id.Subject,
	}
}
