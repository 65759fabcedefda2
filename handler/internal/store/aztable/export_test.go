package aztable

import "context"

// DeleteTable lets the tests drop their table when done.
func DeleteTable(s *Store, ctx context.Context) error {
	_, err := s.client.Delete(ctx, nil)
	return err
}
