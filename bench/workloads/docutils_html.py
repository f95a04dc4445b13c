# Benchmark workload: docutils converts a large reStructuredText document (generated here, the same
# every run) to HTML. Needs docutils importable (Debian python3-docutils); used by scripts/bench.mjs.
import sys


def document(sections):
    out = ["=================", "Benchmark document", "=================", "", ".. contents::", ""]
    for s in range(sections):
        title = "Section %d: the *%s* part" % (s, ["first", "middle", "last"][s % 3])
        out += [title, "=" * len(title), ""]
        for p in range(4):
            out.append("Paragraph %d of section %d has **strong** text, *emphasis*, ``literal code``, "
                       "a `link <https://example.org/%d/%d>`_ and a footnote [#f%d_%d]_. It goes on "
                       "for a while so that the inliner has real work to do on every line of it."
                       % (p, s, s, p, s, p))
            out.append("")
        out += ["- item one of %d" % s, "- item two with ``code``", "", "  - nested item", "",
                "- item three", "",
                "1. first", "2. second", "3. third", "",
                "term %d" % s, "    Definition of the term with *markup*." , "",
                "::", "", "    def example_%d(x):" % s, "        return x * %d" % s, "",
                "+--------+--------+--------+", "| a      | b      | c      |",
                "+========+========+========+", "| %-6d | two    | three  |" % s,
                "+--------+--------+--------+", "",
                ".. note:: A note in section %d with ``inline`` text." % s, ""]
        for p in range(4):
            out += [".. [#f%d_%d] Footnote %d of section %d." % (s, p, p, s), ""]
    return "\n".join(out)


def main(sections=60):
    from docutils.core import publish_string
    html = publish_string(document(sections), writer_name="html",
                          settings_overrides={"report_level": 5, "halt_level": 5,
                                              "_disable_config": True})
    print("docutils", len(html))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 60)
