package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
	"github.com/presswork/presswork/internal/wordpress"
)

// uploadImages makes sure every ready image of the draft is in the site's
// media library and returns them by image id.
func (pub *publication) uploadImages(ctx context.Context) (map[int64]wordpress.Media, error) {
	out := make(map[int64]wordpress.Media)
	for _, img := range pub.images {
		if img.State != store.ImageReady || (img.Role == store.ImageRoleInline && img.Position > pub.site.InlineImages) {
			continue // not made yet, or more in-article images than the site now asks for
		}
		m, err := pub.ensureMedia(ctx, img)
		if err != nil {
			return nil, fmt.Errorf("image %d: %w", img.ID, err)
		}
		out[img.ID] = m
	}
	return out, nil
}

// ensureMedia finds the image's media item (stored id, else its name on
// the site) and updates its texts, or uploads it and stores the id at once.
func (pub *publication) ensureMedia(ctx context.Context, img store.Image) (wordpress.Media, error) {
	name := pub.mediaName(img)
	caption := img.AltText
	found, err := pub.findMedia(ctx, img, name)
	if err != nil {
		return wordpress.Media{}, err
	}
	if found != nil {
		if found.AltText == img.AltText && found.Caption != "" {
			return *found, nil
		}
		return pub.wp.UpdateMedia(ctx, found.ID, name, img.AltText, caption)
	}
	contentType, data, err := pub.w.store.ImageContentByID(ctx, pub.p.TenantID, img.ID)
	if err != nil {
		return wordpress.Media{}, err
	}
	m, err := pub.wp.UploadMedia(ctx, wordpress.MediaInput{Filename: name + extension(contentType),
		ContentType: contentType, Data: data, Title: name, AltText: img.AltText, Caption: caption})
	if err != nil {
		return wordpress.Media{}, err
	}
	if err := pub.recordMedia(ctx, img.ID, m.ID); err != nil {
		return wordpress.Media{}, err
	}
	return m, nil
}

// findMedia returns the image's media item on the site: by stored id, else
// by name (an upload whose id was never stored), or nil.
func (pub *publication) findMedia(ctx context.Context, img store.Image, name string) (*wordpress.Media, error) {
	if img.WPMediaID != nil {
		m, err := pub.wp.GetMedia(ctx, *img.WPMediaID)
		if err == nil {
			return &m, nil
		}
		if !errors.Is(err, errs.ErrNotFound) {
			return nil, err
		}
		// Deleted in WordPress: upload it again.
		if err := pub.recordMedia(ctx, img.ID, 0); err != nil {
			return nil, err
		}
		return nil, nil
	}
	items, err := pub.wp.SearchMedia(ctx, name)
	if err != nil {
		return nil, err
	}
	for _, m := range items {
		if m.Title == name {
			if err := pub.recordMedia(ctx, img.ID, m.ID); err != nil {
				return nil, err
			}
			return &m, nil
		}
	}
	return nil, nil
}

// recordMedia stores a media id on a context that outlives the job's, so
// that an id WordPress gave is not lost to a timeout.
func (pub *publication) recordMedia(ctx context.Context, imageID, mediaID int64) error {
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return pub.w.store.RecordMedia(bg, pub.p.TenantID, imageID, mediaID)
}

// mediaName is an image's file name without extension and its title in the
// media library: unique per draft and image, so a retry can find it.
func (pub *publication) mediaName(img store.Image) string {
	if img.Role == store.ImageRoleFeatured {
		return fmt.Sprintf("%s-featured", pub.marker())
	}
	return fmt.Sprintf("%s-inline-%d", pub.marker(), img.Position)
}

func (pub *publication) marker() string { return tasks.DraftMarker(pub.draft.ID) }

func (pub *publication) markerComment() string { return tasks.DraftMarkerComment(pub.draft.ID) }

func extension(contentType string) string {
	switch contentType {
	case "image/jpeg":
		return ".jpg"
	case "image/webp":
		return ".webp"
	case "image/gif":
		return ".gif"
	}
	return ".png"
}
