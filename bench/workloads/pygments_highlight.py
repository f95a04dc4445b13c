# Benchmark workload: pygments highlights a large Python file (pygments' own Python lexer source,
# repeated) to HTML. Needs pygments importable (Debian python3-pygments); used by scripts/bench.mjs.
import sys


def main(copies=3):
    import pygments
    import pygments.lexers.python as source_module
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer
    with open(source_module.__file__, encoding="utf-8") as f:
        text = f.read() * copies
    html = highlight(text, PythonLexer(), HtmlFormatter())
    print("pygments", pygments.__version__, len(text), len(html))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
