package wordnet

import (
	"errors"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func openFixture(t *testing.T) *DB {
	t.Helper()
	db, err := Open("testdata")
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func words(db *DB, ids []ID) [][]string {
	var out [][]string
	for _, id := range ids {
		out = append(out, db.Synset(id).Words)
	}
	return out
}

func TestOpenMissing(t *testing.T) {
	_, err := Open(t.TempDir())
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Open(empty dir) = %v, want ErrNotFound", err)
	}
}

func TestOpenMalformed(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"index.noun", "data.noun", "index.verb", "data.verb"} {
		if err := os.WriteFile(dir+"/"+f, []byte("pothos n x 1 @ 1 0 00000001\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Open(dir); err == nil || errors.Is(err, ErrNotFound) {
		t.Fatalf("Open(malformed) = %v, want a parse error", err)
	}
}

func TestSensesAndHypernyms(t *testing.T) {
	db := openFixture(t)
	pothos := db.Senses("pothos", Noun)
	if diff := cmp.Diff([][]string{{"pothos"}}, words(db, pothos)); diff != "" {
		t.Fatalf("Senses(pothos) (-want +got):\n%s", diff)
	}
	monstera := db.Senses("monstera", Noun)
	if diff := cmp.Diff([][]string{{"monstera", "monstera_deliciosa"}}, words(db, monstera)); diff != "" {
		t.Fatalf("Senses(monstera) (-want +got):\n%s", diff)
	}
	// Pothos and monstera meet one hypernym up.
	a, b := db.Synset(pothos[0]), db.Synset(monstera[0])
	if diff := cmp.Diff(a.Hypernyms, b.Hypernyms); diff != "" || len(a.Hypernyms) != 1 {
		t.Fatalf("hypernyms differ (-pothos +monstera):\n%s", diff)
	}
	liana := db.Synset(a.Hypernyms[0])
	if diff := cmp.Diff([]string{"liana"}, liana.Words); diff != "" {
		t.Errorf("hypernym (-want +got):\n%s", diff)
	}
	if liana.Depth != 6 || a.Depth != 7 || liana.Size != 3 || a.Size != 1 {
		t.Errorf("liana depth %d size %d, pothos depth %d size %d; want 6 3 7 1", liana.Depth, liana.Size, a.Depth, a.Size)
	}
	if root := db.Synset(db.Senses("entity", Noun)[0]); root.Depth != 0 || root.Size != 12 {
		t.Errorf("entity depth %d size %d, want 0 12", root.Depth, root.Size)
	}
	if a.Gloss != "a climbing plant grown indoors" {
		t.Errorf("gloss %q: want the definition without its example", a.Gloss)
	}
	castling := db.Synset(db.Senses("castling", Noun)[0])
	if diff := cmp.Diff([][]string{{"chess", "chess_game"}}, words(db, castling.Domains)); diff != "" {
		t.Errorf("castling's domains (-want +got):\n%s", diff)
	}
}

func TestMorphology(t *testing.T) {
	db := openFixture(t)
	for _, tt := range []struct {
		word string
		want []string
	}{
		{"leaves", []string{"leaf", "leafage"}}, // exception list
		{"vines", []string{"vine"}},             // detachment rule
		{"lianas", []string{"liana"}},
		{"chess_game", []string{"chess", "chess_game"}},
		{"houseplant", nil},
	} {
		var got []string
		if ids := db.Senses(tt.word, Noun); len(ids) > 0 {
			got = db.Synset(ids[0]).Words
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Senses(%q) (-want +got):\n%s", tt.word, diff)
		}
	}
	if got := db.Polysemy("plant"); got != 1 {
		t.Errorf("Polysemy(plant) = %d, want 1", got)
	}
	if got := db.Polysemy("houseplant"); got != 0 {
		t.Errorf("Polysemy(houseplant) = %d, want 0", got)
	}
}

// TestInstalled reads Debian's wordnet-base when it is installed.
func TestInstalled(t *testing.T) {
	db, err := Open(DefaultDir)
	if errors.Is(err, ErrNotFound) {
		t.Skip("no WordNet in " + DefaultDir + " (apt-get install wordnet-base)")
	}
	if err != nil {
		t.Fatal(err)
	}
	latte := db.Senses("lattes", Noun)
	if len(latte) == 0 {
		t.Fatal("no sense of lattes")
	}
	found := false
	for id := latte[0]; ; {
		s := db.Synset(id)
		if s == nil || len(s.Hypernyms) == 0 {
			break
		}
		if s.Words[0] == "coffee" {
			found = true
			break
		}
		id = s.Hypernyms[0]
	}
	if !found {
		t.Error("latte has no coffee among its hypernyms")
	}
	if db.Polysemy("set") < 20 || db.Polysemy("tent") > 5 {
		t.Errorf("Polysemy(set) = %d, Polysemy(tent) = %d", db.Polysemy("set"), db.Polysemy("tent"))
	}
}
