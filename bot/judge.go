package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/modelgate/modelgate/pkg/judge/jsonl"
)

const judgeUsage = `usage: bot judge [flags] < cases.jsonl > decisions.jsonl

Reads one canary case per line (JSON, see DESIGN.md "bot judge lines") and
writes one decision per line, in order. A line with "look" replays a look of
the engine (its audit trail keeps such lines), with the engine's judge:
Holm's step-down over the metrics and alpha kept for looks beyond the plan. A line that cannot be judged gets
{"id":...,"line":N,"error":"..."} and the command goes on. Exit status: 0 when
every line was judged, 1 when some line got an error, 2 when the command
could not run (bad flags, unreadable input).

flags:
`

// runJudge implements `bot judge`: JSON lines on stdin, decisions on stdout.
func runJudge(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cfg := jsonl.DefaultConfig()
	fs := flag.NewFlagSet("judge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, judgeUsage)
		fs.PrintDefaults()
	}
	fs.Float64Var(&cfg.Confidence, "confidence", cfg.Confidence, "confidence of the one-sided test and intervals")
	fs.Float64Var(&cfg.PassScore, "pass", cfg.PassScore, "score (percent of metrics passing) to pass")
	fs.Float64Var(&cfg.MarginalScore, "marginal", cfg.MarginalScore, "score below which the canary fails")
	maxLine := fs.Int("max-line", 64<<20, "longest input line in bytes; longer lines get an error")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bot judge: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	j, err := jsonl.NewJudges(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "bot judge: %v\n", err)
		return 2
	}
	failed, err := judgeLines(ctx, j, stdin, stdout, *maxLine)
	if err != nil {
		fmt.Fprintf(stderr, "bot judge: %v\n", err)
		return 2
	}
	if failed > 0 {
		fmt.Fprintf(stderr, "bot judge: %d line(s) could not be judged\n", failed)
		return 1
	}
	return 0
}

// judgeLines streams in to out and returns how many lines got an error.
// Lines are judged in batches on every CPU and written in order; a batch
// ends early when no more input is buffered, so a caller holding a pipe
// open gets each decision as soon as its case is complete.
func judgeLines(ctx context.Context, j jsonl.Judges, in io.Reader, out io.Writer, maxLine int) (int, error) {
	r := bufio.NewReaderSize(in, 256<<10)
	w := bufio.NewWriterSize(out, 256<<10)
	failed, n := 0, 0
	for {
		if err := ctx.Err(); err != nil {
			return failed, errors.Join(fmt.Errorf("line %d: %w", n+1, err), w.Flush())
		}
		batch, eof, err := readBatch(r, n, maxLine)
		if err != nil {
			return failed, errors.Join(err, w.Flush())
		}
		n += len(batch)
		for _, res := range judgeBatch(j, batch, maxLine) {
			if bytes.Contains(res, []byte(`"error":`)) {
				failed++
			}
			if _, err := w.Write(append(res, '\n')); err != nil {
				return failed, fmt.Errorf("write: %w", err)
			}
		}
		if err := w.Flush(); err != nil {
			return failed, fmt.Errorf("write: %w", err)
		}
		if eof {
			return failed, nil
		}
	}
}

// item is one input line.
type item struct {
	n       int
	line    []byte
	tooLong bool
}

const batchSize = 256

// readBatch reads at least one line (unless the input has ended) and more
// while they are already buffered, up to batchSize.
func readBatch(r *bufio.Reader, last, maxLine int) (batch []item, eof bool, err error) {
	for len(batch) < batchSize && (len(batch) == 0 || r.Buffered() > 0) {
		line, tooLong, err := readLine(r, maxLine)
		if errors.Is(err, io.EOF) && line == nil && !tooLong {
			return batch, true, nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, false, fmt.Errorf("read line %d: %w", last+len(batch)+1, err)
		}
		batch = append(batch, item{n: last + len(batch) + 1, line: line, tooLong: tooLong})
		if err != nil {
			return batch, true, nil
		}
	}
	return batch, false, nil
}

// judgeBatch judges the lines of a batch in parallel, results in order.
func judgeBatch(j jsonl.Judges, batch []item, maxLine int) [][]byte {
	results := make([][]byte, len(batch))
	workers := min(runtime.GOMAXPROCS(0), len(batch))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(batch); i += workers {
				it := batch[i]
				if it.tooLong {
					results[i] = fmt.Appendf(nil, `{"line":%d,"error":"line longer than %d bytes (see -max-line)"}`, it.n, maxLine)
					continue
				}
				results[i] = jsonl.Judge(j, it.n, it.line)
			}
		}()
	}
	wg.Wait()
	return results
}

// readLine returns the next line without its newline. A line longer than
// max is skipped to its end and reported as tooLong. At the end of input
// it returns io.EOF, with the last line if it had no newline.
func readLine(r *bufio.Reader, max int) (line []byte, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if !tooLong {
			if len(buf)+len(chunk) > max+2 { // +2: a CRLF
				tooLong, buf = true, nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err != nil && !errors.Is(err, io.EOF):
			return nil, false, err
		case errors.Is(err, io.EOF) && len(buf) == 0 && !tooLong:
			return nil, false, io.EOF
		}
		buf = bytes.TrimSuffix(buf, []byte("\n"))
		buf = bytes.TrimSuffix(buf, []byte("\r"))
		if len(buf) > max {
			tooLong, buf = true, nil
		}
		if buf == nil && !tooLong {
			buf = []byte{}
		}
		return buf, tooLong, err
	}
}
