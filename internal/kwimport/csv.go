package kwimport

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/presswork/presswork/internal/errs"
)

// ParseCSV parses a CSV keyword file of at most maxRows data rows (MaxRows
// when maxRows <= 0).
//
// The first line is a header naming the columns, matched case-insensitively
// after trimming: phrase (or keyword, keywords, query; required), volume (or
// search_volume), difficulty (or kd) and intent. Cells are separated by
// commas, or by semicolons when the header line has a ';' and no ',', or by
// tabs when it has a tab. A UTF-8 byte order mark is skipped, blank lines
// are ignored, and a row may have fewer cells than the header (missing and
// blank cells are absent values) but not more.
func ParseCSV(r io.Reader, maxRows int) (Result, error) {
	maxRows = rowLimit(maxRows)
	hint := sizeHint(r, maxRows)
	cr := newCSVReader(newSource(r))
	cols, err := readCSVHeader(cr)
	if err != nil {
		return Result{}, err
	}
	b := newBuilder(hint)
	if err := readCSVRows(cr, cols, maxRows, b); err != nil {
		return Result{}, err
	}
	return b.finish()
}

// newCSVReader makes a csv.Reader with the delimiter the header line uses.
func newCSVReader(src *bufio.Reader) *csv.Reader {
	head, _ := src.Peek(sourceBufSize) // errors resurface on the csv.Reader's reads
	cr := csv.NewReader(src)
	cr.Comma = detectDelimiter(head)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = false
	cr.ReuseRecord = true
	// Allows `a, "b"`. Not with tabs: trimming would swallow empty cells.
	cr.TrimLeadingSpace = cr.Comma != '\t'
	return cr
}

// detectDelimiter picks the delimiter from the first non-empty line of head.
func detectDelimiter(head []byte) rune {
	head = bytes.TrimLeft(head, "\r\n")
	line, _, _ := bytes.Cut(head, []byte{'\n'})
	switch {
	case bytes.IndexByte(line, '\t') >= 0:
		return '\t'
	case bytes.IndexByte(line, ';') >= 0 && bytes.IndexByte(line, ',') < 0:
		return ';'
	}
	return ','
}

// readCSVHeader reads the header and returns each column's field.
func readCSVHeader(cr *csv.Reader) ([]field, error) {
	rec, err := cr.Read()
	if err == io.EOF {
		return nil, errNoRows()
	}
	if err != nil {
		return nil, csvError(err)
	}
	return mapHeader(rec)
}

// mapHeader maps header cells to fields, rejecting missing phrase,
// unnamed, unknown and repeated columns.
func mapHeader(rec []string) ([]field, error) {
	if !hasPhraseColumn(rec) {
		return nil, errs.Invalid(ErrorField,
			`the first line must be a header row naming the columns, with a "phrase" column (or keyword, keywords, query)`)
	}
	cols := make([]field, len(rec))
	var first [numFields]string
	for i, cell := range rec {
		name := strings.TrimSpace(cell)
		f := lookupField(name)
		switch {
		case name == "":
			return nil, errs.Invalid(ErrorField, "column %d of the header has no name", i+1)
		case f == fieldNone:
			return nil, errs.Invalid(ErrorField, "the header has an unknown column %q (allowed: %s)", clip(name), allowedFields)
		case first[f] != "":
			return nil, errs.Invalid(ErrorField, "the header has two %s columns (%q and %q)", fieldNames[f], clip(first[f]), clip(name))
		}
		first[f] = name
		cols[i] = f
	}
	return cols, nil
}

func hasPhraseColumn(rec []string) bool {
	for _, cell := range rec {
		if lookupField(cell) == fieldPhrase {
			return true
		}
	}
	return false
}

// readCSVRows reads the data rows into b.
func readCSVRows(cr *csv.Reader, cols []field, maxRows int, b *builder) error {
	var raw rawRow
	for n := 1; ; n++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return csvError(err)
		}
		if n > maxRows {
			return errTooManyRows(maxRows)
		}
		raw.fromCSV(rec, cols)
		b.add(n, &raw)
	}
}

// fromCSV fills r from a record.
func (r *rawRow) fromCSV(rec []string, cols []field) {
	*r = rawRow{}
	if len(rec) > len(cols) {
		r.fail("row", fmt.Sprintf("has %d cells but the header has %d columns", len(rec), len(cols)))
		return
	}
	for i, v := range rec {
		r.vals[cols[i]] = v
	}
}

// csvError translates a csv.Reader error.
func csvError(err error) error {
	if out, ok := sourceError(err); ok {
		return out
	}
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return errs.Invalid(ErrorField, "the file is not valid CSV: %v", err)
	}
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return errs.Invalid(ErrorField,
			`line %d, column %d: a quote (") is inside a cell that is not quoted; put the cell in quotes and double the quote ("")`,
			pe.Line, pe.Column)
	case errors.Is(pe.Err, csv.ErrQuote) && pe.StartLine != pe.Line:
		return errs.Invalid(ErrorField,
			`line %d, column %d: a quoted cell of the row starting on line %d has a stray or missing quote (")`,
			pe.Line, pe.Column, pe.StartLine)
	case errors.Is(pe.Err, csv.ErrQuote):
		return errs.Invalid(ErrorField, `line %d, column %d: a quoted cell has a stray or missing quote (")`, pe.Line, pe.Column)
	}
	return errs.Invalid(ErrorField, "line %d is not valid CSV: %v", pe.Line, pe.Err)
}
