test:
	scripts/test

.PHONY: test
