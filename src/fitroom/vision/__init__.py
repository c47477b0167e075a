"""Photos of people: decoding, MediaPipe landmarks and mask, and the quality gate."""
