package kwimport

import (
	"encoding/json"
	"errors"
	"io"

	"github.com/presswork/presswork/internal/errs"
)

// ParseJSON parses a JSON keyword file of at most maxRows rows (MaxRows when
// maxRows <= 0), streaming it.
//
// The body is an array of objects, or an object whose only key is
// "keywords" holding that array. Each object's keys are matched like CSV
// columns: phrase (or keyword, keywords, query), volume (or search_volume),
// difficulty (or kd) and intent. phrase and intent are strings, volume and
// difficulty are numbers (not strings); null means absent. An unknown or
// repeated key, or a value of the wrong type, makes that row invalid.
func ParseJSON(r io.Reader, maxRows int) (Result, error) {
	p := jsonParser{maxRows: rowLimit(maxRows)}
	p.hint = sizeHint(r, p.maxRows)
	p.dec = json.NewDecoder(newSource(r))
	p.dec.UseNumber()
	if err := p.parse(); err != nil {
		return Result{}, err
	}
	return p.b.finish()
}

// jsonParser holds the state of one ParseJSON call.
type jsonParser struct {
	dec     *json.Decoder
	b       *builder
	maxRows int
	hint    int // rows to preallocate
	n       int // number of the current row, for error messages
	raw     rawRow
}

// parse reads the whole body.
func (p *jsonParser) parse() error {
	wrapped, err := p.open()
	if err != nil {
		return err
	}
	p.b = newBuilder(p.hint)
	for p.dec.More() {
		p.n++
		if p.n > p.maxRows {
			return errTooManyRows(p.maxRows)
		}
		if err := p.readRow(); err != nil {
			return err
		}
		p.b.add(p.n, &p.raw)
	}
	return p.close(wrapped)
}

// open reads up to the opening '[' of the rows; wrapped reports the
// {"keywords": [...]} form.
func (p *jsonParser) open() (wrapped bool, err error) {
	tok, err := p.dec.Token()
	if err == io.EOF {
		return false, errNoRows()
	}
	if err != nil {
		return false, p.error(err)
	}
	switch tok {
	case json.Delim('['):
		return false, nil
	case json.Delim('{'):
		if err := p.expect("keywords"); err != nil {
			return false, err
		}
		return true, p.expect(json.Delim('['))
	}
	return false, errShape()
}

// expect reads one token, which must be want.
func (p *jsonParser) expect(want any) error {
	tok, err := p.dec.Token()
	if err != nil {
		return p.error(err)
	}
	if tok != want {
		return errShape()
	}
	return nil
}

// close reads the closing ']' (and '}') and checks nothing follows.
func (p *jsonParser) close(wrapped bool) error {
	if err := p.expect(json.Delim(']')); err != nil {
		return err
	}
	if wrapped {
		tok, err := p.dec.Token()
		if err != nil {
			return p.error(err)
		}
		if tok != json.Delim('}') {
			return errs.Invalid(ErrorField, `the object must have only the "keywords" key`)
		}
	}
	if _, err := p.dec.Token(); err != io.EOF {
		if err != nil {
			return p.error(err)
		}
		return errs.Invalid(ErrorField, "the body has more data after the keywords")
	}
	return nil
}

// readRow reads one object into p.raw.
func (p *jsonParser) readRow() error {
	tok, err := p.dec.Token()
	if err != nil {
		return p.error(err)
	}
	if tok != json.Delim('{') {
		return errs.Invalid(ErrorField, "row %d is not a JSON object; the body must be an array of keyword objects", p.n)
	}
	p.raw = rawRow{}
	for p.dec.More() {
		if err := p.readField(); err != nil {
			return err
		}
	}
	_, err = p.dec.Token() // '}'
	if err != nil {
		return p.error(err)
	}
	return nil
}

// readField reads one key and its value into p.raw.
func (p *jsonParser) readField() error {
	tok, err := p.dec.Token()
	if err != nil {
		return p.error(err)
	}
	key, _ := tok.(string) // the decoder only yields strings as keys
	val, err := p.dec.Token()
	if err != nil {
		return p.error(err)
	}
	if _, ok := val.(json.Delim); ok {
		if err := p.skipNested(); err != nil {
			return err
		}
	}
	p.raw.setJSON(key, val)
	return nil
}

// skipNested consumes the rest of an array or object whose opening
// delimiter was just read.
func (p *jsonParser) skipNested() error {
	for depth := 1; depth > 0; {
		tok, err := p.dec.Token()
		if err != nil {
			return p.error(err)
		}
		switch tok {
		case json.Delim('['), json.Delim('{'):
			depth++
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
	}
	return nil
}

// setJSON stores one key's value, or records the row's problem with it.
func (r *rawRow) setJSON(key string, val any) {
	f := lookupField(key)
	switch {
	case f == fieldNone:
		r.fail(clip(key), "is not a known field (allowed: "+allowedFields+")")
		return
	case r.set[f]:
		r.fail(fieldNames[f], "is given more than once")
		return
	}
	r.set[f] = true
	switch v := val.(type) {
	case nil:
	case json.Number:
		if f == fieldVolume || f == fieldDifficulty {
			r.vals[f] = v.String()
			return
		}
		r.fail(fieldNames[f], "must be a string")
	case string:
		if f == fieldPhrase || f == fieldIntent {
			r.vals[f] = v
			return
		}
		r.fail(fieldNames[f], "must be a number")
	default:
		r.fail(fieldNames[f], "must be a "+jsonKind(f))
	}
}

// jsonKind names the JSON type a field takes.
func jsonKind(f field) string {
	if f == fieldVolume || f == fieldDifficulty {
		return "number"
	}
	return "string"
}

// error translates a decoder error.
func (p *jsonParser) error(err error) error {
	if out, ok := sourceError(err); ok {
		return out
	}
	row := max(p.n, 1)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errs.Invalid(ErrorField, "the JSON ends too early (near row %d)", row)
	}
	return errs.Invalid(ErrorField, "the body is not valid JSON (near row %d): %v", row, err)
}

func errShape() error {
	return errs.Invalid(ErrorField, `the body must be a JSON array of keyword objects, or an object {"keywords": [...]}`)
}
