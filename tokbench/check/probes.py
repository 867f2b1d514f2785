"""The fixed probe texts a baseline encodes: adversarial segments (hashed) and short golden probes (ids kept).

The adversarial segments aim at the places where tokenizer changes show first: whitespace handling, digit
splitting, multi-codepoint emoji, scripts without spaces, combining marks, contractions, code, and text that
*looks* like a special token but is plain text (it must be encoded as ordinary text, never as the special
id). A baseline stores the texts it used, so a later tokbench with other probes still checks an old baseline
against the same texts.
"""

from __future__ import annotations

#: Bumped whenever the texts below change (recorded in every baseline).
PROBE_SET = "tokbench-probes-1"

#: name -> text. Encoded one by one; the behaviour fingerprint is a hash over all of them.
ADVERSARIAL: dict[str, str] = {
    "whitespace_runs": "a  b   c    d\t\te\n\nf \n g\r\nh\u00a0i\u3000j     \n\n\n   end  ",
    "leading_trailing": "   leading spaces and trailing   ",
    "digits": "0 7 42 123 1234 12345 123456 3.14159 1,000,000 2024-06-30 0x1F 1e-9 ９８７",
    "emoji_zwj": "👩‍👩‍👧‍👦 👍🏽 🏳️‍🌈 🇹🇷🇯🇵 ❤️‍🔥 🤖🫠",
    "cjk": "日本語のテキストを分割します。中文分词测试，繁體中文。한국어 문장입니다.",
    "cyrillic": "Съешь же ещё этих мягких французских булок, да выпей чаю. Ёлка, ЙОД.",
    "arabic": "مرحبا بالعالم! هذا نصٌّ عربيٌّ مع تشكيل، والأرقام ١٢٣٤.",
    "devanagari": "नमस्ते दुनिया। हिन्दी में संयुक्ताक्षर: क्षत्रिय, ज्ञान, श्री।",
    "khmer": "សួស្តីពិភពលោក។ ភាសាខ្មែរ មិនប្រើដកឃ្លារវាងពាក្យ",
    "thai_burmese": "ภาษาไทยไม่มีการเว้นวรรค မြန်မာဘာသာ",
    # decomposed vs precomposed, compatibility forms (ligature, fraction, Angstrom/Ohm signs), Turkish dotted
    # and dotless i, a titlecase digraph, sharp s and its capital
    "combining": "e\u0301 \u00e9 A\u030a \u00c5 \u212b \ufb01 \u00bd \u0130stanbul \u0131i \u01c5 \u00df \u1e9e \u2126 \u03a9",
    "contractions": "I'm you're he'll we've they'd can't won't it's O'Neil 'quoted' DON'T I'M",
    "code_python": "def f(x: int) -> int:\n    return x**2 + 1  # square\n\nif __name__ == \"__main__\":\n\tprint(f(3))\n",
    "code_c": "int main(void) {\n  for (int i = 0; i < 10; ++i) { printf(\"%d\\n\", i); }\n  return 0;\n}\n",
    "code_misc": "<div class=\"x\">&amp;</div> {\"key\": [1, 2.5, null]} SELECT * FROM t WHERE a<>b; $x=`ls -la`",
    "special_lookalikes": "<|endoftext|> <s> </s> <unk> <pad> [CLS] [SEP] [MASK] <|im_start|>user <0x41> <|fim_prefix|>",
    "punctuation_runs": "!!!??? ... --- *** ~~~ ((())) «»„“ — – … ¿¡ ‽ ####",
    "urls_mixed": "https://example.org/a_b?c=1&d=%20 user@mail.com CamelCaseWord snake_case_word ALLCAPS",
    "turkish_agglutinative": "Çekoslovakyalılaştıramadıklarımızdanmışsınız. Kitaplarımızdan birini okudunuz mu?",
    "mixed_scripts": "Hello мир 世界 مرحبا नमस्ते שלום Γειά σου ሰላም ᐊᐃᓐᓇ",
    "long_repeat": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa " + "ab" * 24 + " " + "=" * 40,
}

#: name -> text. Short probes whose exact ids a baseline keeps (a changed id list is shown token by token).
GOLDEN: dict[str, str] = {
    "english": "The quick brown fox jumps over the lazy dog.",
    "german": "Größenwahnsinnige Straßenbahnschaffner übernehmen Verantwortung.",
    "turkish": "Merhaba dünya! Kitaplarımızdan birini okudun mu?",
    "russian": "Быстрая коричневая лиса прыгает через ленивую собаку.",
    "chinese_japanese": "中文分词。日本語のテキスト。",
    "numbers": "In 2024, 1234567 people paid $3.50.",
    "code": "for i in range(10):\n    print(i)",
    "special_lookalike": "Text with <|endoftext|> and <s> inside.",
    "emoji": "I 💚 🤖 and 👩‍👩‍👧!",
}
