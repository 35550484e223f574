"""Property listings, their images, and listing cards."""
