package governance

import (
	"fmt"
	"io"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown/print"

	"github.com/modelgate/modelgate/internal/plain"
)

// unsafeBuiltins are the built-in functions a policy may not call: they
// reach the network (http.send, net.lookup_ip_addr) or the process
// environment, tokens included (opa.runtime). A policy calling one fails to
// compile with an error naming the call and its file. The pure net.cidr_*
// functions stay available: they compute on their arguments only.
func unsafeBuiltins() map[string]struct{} {
	return map[string]struct{}{
		ast.HTTPSend.Name:        {},
		ast.NetLookupIPAddr.Name: {},
		ast.OPARuntime.Name:      {},
	}
}

// compile type-checks the modules once, with the unsafe built-ins refused.
func compile(modules map[string]*ast.Module, enablePrint bool) (*ast.Compiler, error) {
	c := ast.NewCompiler().
		WithBuiltins(builtinDecls()).
		WithUnsafeBuiltins(unsafeBuiltins()).
		WithEnablePrintStatements(enablePrint).
		WithDefaultRegoVersion(ast.RegoV1)
	c.Compile(modules)
	if c.Failed() {
		return nil, fmt.Errorf("compile policies: %w", c.Errors)
	}
	return c, nil
}

// printHook writes print() output, one line per call, prefixed with the
// policy location. Writes are serialized: documents are evaluated
// concurrently. Control characters are escaped: a policy may print text of
// the pull request, which must not start a line of its own in a CI log.
type printHook struct {
	w  io.Writer
	mu *sync.Mutex
}

func newPrintHook(w io.Writer) printHook {
	return printHook{w: w, mu: &sync.Mutex{}}
}

// Print implements print.Hook.
func (h printHook) Print(ctx print.Context, msg string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := fmt.Fprintf(h.w, "%v: %s\n", ctx.Location, plain.Text(msg))
	return err
}
