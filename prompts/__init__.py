"""Prompt templates as files, loaded by name, each with a version.

A prompt file is ``prompts/<name>.md``: a front matter block (``name``, ``version``,
``description``) between ``---`` lines, then the template body in mustache syntax
(``{{variable}}``, rendered with langchain-core's PromptTemplate). Bodies stay whole files: no
prompts glued from string fragments in code.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

PROMPTS_DIR = Path(__file__).resolve().parent


class PromptNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Prompt:
    name: str
    version: int
    description: str
    body: str

    @property
    def ref(self) -> str:
        return f"{self.name}@v{self.version}"

    def render(self, **variables: Any) -> str:
        from langchain_core.prompts import PromptTemplate  # lazy: only planning renders

        template = PromptTemplate.from_template(self.body, template_format="mustache")
        missing = set(template.input_variables) - set(variables)
        if missing:
            raise KeyError(f"prompt {self.ref} needs variables: {', '.join(sorted(missing))}")
        return template.format(**variables).strip()


@cache
def load_prompt(name: str) -> Prompt:
    path = PROMPTS_DIR / f"{name}.md"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in PROMPTS_DIR.glob("*.md")))
        raise PromptNotFound(f"no prompt '{name}' in {PROMPTS_DIR} (known: {known})")
    text = path.read_text(encoding="utf-8")
    meta, body = _front_matter(text, path)
    return Prompt(name=meta.get("name", name), version=int(meta.get("version", "1")),
                  description=meta.get("description", ""), body=body)


def _front_matter(text: str, path: Path) -> tuple[dict[str, str], str]:
    if not text.startswith("---\n"):
        raise ValueError(f"{path}: a prompt file starts with a '---' front matter block")
    head, sep, body = text[4:].partition("\n---\n")
    if not sep:
        raise ValueError(f"{path}: the front matter block is not closed with '---'")
    meta = {}
    for line in head.splitlines():
        key, _, value = line.partition(":")
        if key.strip():
            meta[key.strip()] = value.strip()
    return meta, body
