# Thin wrapper over run.sh, the README's two commands.
.PHONY: demo test clean
demo:
	./run.sh demo
test:
	./run.sh test
clean:
	rm -rf build
