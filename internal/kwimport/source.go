package kwimport

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/presswork/presswork/internal/errs"
)

const sourceBufSize = 64 << 10

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// newSource wraps r so that reading fails at the first byte that is not
// valid UTF-8, and strips a leading UTF-8 byte order mark.
func newSource(r io.Reader) *bufio.Reader {
	br := bufio.NewReaderSize(&utf8Reader{src: r, line: 1}, sourceBufSize)
	if b, _ := br.Peek(len(utf8BOM)); bytes.Equal(b, utf8BOM) {
		_, _ = br.Discard(len(utf8BOM)) // cannot fail: the bytes are buffered
	}
	return br
}

// encodingError is the error a utf8Reader returns at an invalid byte.
type encodingError struct {
	line  int  // 1-based line of the invalid byte
	utf16 bool // the file starts like UTF-16
}

func (e *encodingError) Error() string { return e.problem() }

func (e *encodingError) problem() string {
	if e.utf16 {
		return "the file is UTF-16 text; save it as UTF-8"
	}
	return fmt.Sprintf("the file is not valid UTF-8 text (line %d); save it as UTF-8", e.line)
}

// readError wraps an error of the underlying reader, to tell it from a
// problem with the input.
type readError struct{ err error }

func (e *readError) Error() string { return "kwimport: reading the file: " + e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// sourceError translates an error that came from newSource's reader: an
// *errs.ValidationError for invalid UTF-8, the read error itself for a
// failing reader. ok is false for any other error.
func sourceError(err error) (out error, ok bool) {
	var ee *encodingError
	if errors.As(err, &ee) {
		return errs.Invalid(ErrorField, "%s", ee.problem()), true
	}
	var re *readError
	if errors.As(err, &re) {
		return re, true
	}
	return nil, false
}

// utf8Reader passes its source through, validating UTF-8. Its errors are
// sticky: io.EOF, *readError, or *encodingError at the first invalid byte
// (after every valid byte before it has been returned).
type utf8Reader struct {
	src  io.Reader
	buf  [32 << 10]byte
	r, w int   // buf[r:w] is validated and not yet returned
	pend int   // buf[w:w+pend] is an incomplete rune, waiting for more bytes
	off  int64 // stream offset of buf[0]
	line int   // line of buf[w]
	err  error // returned once buf[r:w] is drained
}

// Read implements io.Reader.
func (u *utf8Reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for u.r == u.w {
		if u.err != nil {
			return 0, u.err
		}
		u.fill()
	}
	n := copy(p, u.buf[u.r:u.w])
	u.r += n
	return n, nil
}

// fill reads more bytes and validates them.
func (u *utf8Reader) fill() {
	u.off += int64(u.w)
	copy(u.buf[:], u.buf[u.w:u.w+u.pend])
	end := u.pend
	u.r, u.w, u.pend = 0, 0, 0
	n, err := u.src.Read(u.buf[end:])
	end += n
	valid, bad := u.scan(u.buf[:end], err != nil)
	u.w = valid
	switch {
	case bad:
		u.err = &encodingError{line: u.line, utf16: u.off+int64(valid) == 0 && isUTF16Start(u.buf[:end])}
	case err == io.EOF:
		u.err = io.EOF
	case err != nil:
		u.err = &readError{err: err}
	default:
		u.pend = end - valid
	}
}

// scan returns the length of b's valid UTF-8 prefix, counting its lines.
// bad reports an invalid sequence right after it. An incomplete rune at the
// end is left for the next read unless final.
func (u *utf8Reader) scan(b []byte, final bool) (valid int, bad bool) {
	i := 0
	for i < len(b) {
		c := b[i]
		if c < utf8.RuneSelf {
			if c == '\n' {
				u.line++
			}
			i++
			continue
		}
		if !utf8.FullRune(b[i:]) {
			return i, final
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i, true
		}
		i += size
	}
	return i, false
}

// isUTF16Start reports whether b starts with a UTF-16 byte order mark.
func isUTF16Start(b []byte) bool {
	return bytes.HasPrefix(b, []byte{0xFF, 0xFE}) || bytes.HasPrefix(b, []byte{0xFE, 0xFF})
}
