"""ECS rules as pure functions: rolling updates, placement, validation."""
