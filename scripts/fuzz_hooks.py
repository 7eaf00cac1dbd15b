"""schemathesis hooks for scripts/fuzz-api.sh: uploads (`docker load`, `docker import`, `docker cp`
in) are tar archives, which schemathesis cannot make by itself. The fuzzer's bytes are sent as
they are, so a body that is not a tar is tested too."""

import schemathesis


@schemathesis.serializer("application/x-tar", "application/octet-stream")
def tar(ctx, value):
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "surrogatepass")


# CPython 3.11.7 (Debian's and pyenv's) can fail to re-parse a module's source with "AST
# constructor recursion depth mismatch" when hypothesis describes a filter lambda for its repr;
# the description is only cosmetic, so a plain name stands in when that happens.
def _describing_safely():
    import hypothesis.internal.reflection as reflection
    import hypothesis.strategies._internal.lazy as lazy

    original = reflection.get_pretty_function_description

    def describe(f):
        try:
            return original(f)
        except SystemError:
            return getattr(f, "__name__", "<lambda>")

    reflection.get_pretty_function_description = describe
    lazy.get_pretty_function_description = describe


_describing_safely()
