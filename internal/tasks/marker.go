package tasks

import "fmt"

// DraftMarker names a draft in everything Presswork puts on its site: the
// post body carries it in an HTML comment (DraftMarkerComment), media
// carry it in their titles. A search of the site for it finds what a lost
// reply hid.
func DraftMarker(draftID int64) string { return fmt.Sprintf("presswork-draft-%d", draftID) }

// DraftMarkerComment is the comment a draft's post body ends with.
func DraftMarkerComment(draftID int64) string { return "<!-- " + DraftMarker(draftID) + " -->" }
