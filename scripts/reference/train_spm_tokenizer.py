#!/usr/bin/env python3
"""Trains a small SentencePiece Unigram model the way XLM-RoBERTa's was made (normalization
rule nmt_nfkc, so its precompiled_charsmap is the real one), turns it into an XLM-RoBERTa
tokenizer with the real transformers (XLMRobertaTokenizer from the .model file, which is what
`save_pretrained` of XLMRobertaTokenizerFast writes in transformers 5), and writes golden ids
from the Rust `tokenizers` binding:

  test/fixtures/xlmr-spm-tokenizer/   tokenizer.json + tokenizer_config.json (+ the .model)
  test/fixtures/xlmr_spm_goldens.json cases, and per tokenizer.json variant the Rust ids:
    transformers5  the saved file as it is: Precompiled; WhitespaceSplit + Metaspace(always)
    converter      transformers' XLMRobertaConverter (convert_slow_tokenizer):
                   Sequence[Precompiled, Strip(right), Replace(" {2,}" -> "▁")]; Metaspace
    hub            the shape of the XLM-R / multilingual-e5 / paraphrase-multilingual files on
                   the Hub (transformers 4): Sequence[Precompiled, Replace(" {2,}" -> " ")],
                   legacy Metaspace{add_prefix_space: true}, <mask> with lstrip
    nmt            a model without a charsmap, as transformers 4's SpmConverter wrote it:
                   Sequence[Nmt, NFKC, Replace(" {2,}" -> " ")]
  Each variant is stored as the top-level tokenizer.json keys that differ from the saved file,
  with the charsmap written as SAME_CHARSMAP (the saved file's own) to keep the goldens small.
  For transformers5 also: ids truncated to 16 tokens, and padded batches with attention masks
  (as transformers' tokenizer(texts, padding=True, truncation=True) returns them: at most
  model_max_length = 128 tokens, as sentence-transformers feeds a model).

Needs only sentencepiece, protobuf, transformers and tokenizers (no torch):
  python3 -m venv /tmp/spmvenv && /tmp/spmvenv/bin/pip install sentencepiece protobuf transformers tokenizers
  /tmp/spmvenv/bin/python scripts/reference/train_spm_tokenizer.py   (from the repository root; reads ../shared/data)
"""
import copy
import json
import os
import shutil
import sys
import tempfile

import sentencepiece as spm
import tokenizers
import transformers
from transformers.convert_slow_tokenizer import XLMRobertaConverter

SHARED = os.path.join('..', 'shared', 'data')
OUT_DIR = 'test/fixtures/xlmr-spm-tokenizer'
GOLDENS = 'test/fixtures/xlmr_spm_goldens.json'
VOCAB_SIZE = 2000
TRUNCATE_AT = 16
BATCH = 8
SAME_CHARSMAP = '<the precompiled_charsmap of the saved tokenizer.json>'

# Lines in other scripts and with compatibility characters, repeated in training so that most
# of their characters get pieces (a few rare ones stay unknown, which the goldens also cover).
MULTILINGUAL = [
    'Le chat est assis sur le tapis, et il est très content.',
    'Où est la gare ? Je voudrais un café crème, s’il vous plaît.',
    'Der schnelle braune Fuchs springt über den faulen Hund. Straße, Größe, Übung.',
    'El niño pequeño juega en el parque con su perro mañana.',
    'A criança está brincando no jardim com o cachorro.',
    'Русский текст: кошка сидит на ковре и смотрит в окно.',
    'Ελληνικά: ο Σίσυφος κυλά την πέτρα στην κορυφή του λόφου.',
    '中文测试：一个男人在弹吉他，一个女人在唱歌。',
    '日本語のテキストです。猫がマットの上に座っています。カタカナ、ひらがな。',
    '한국어 문장입니다. 고양이가 매트 위에 앉아 있습니다.',
    'हिन्दी में एक वाक्य: बिल्ली चटाई पर बैठी है। क्षत्रिय',
    'ภาษาไทย: แมวนั่งอยู่บนเสื่อ สวัสดีครับ',
    'العربية: القطة تجلس على السجادة.',
    'עברית: החתול יושב על השטיח.',
    'Türkçe: İstanbul’da kedi halının üzerinde oturuyor.',
    'Polski: Zażółć gęślą jaźń. Čeština: Příliš žluťoučký kůň.',
    'Tiếng Việt: Con mèo ngồi trên tấm thảm.',
    'ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３ ｶﾀｶﾅ ﾊﾟﾝ',
    '① ② ③ ⑩ ⑳ ™ ½ ㎏ ℃ Ⅻ ﬁ ﬂ …',
    'emoji 😀 👍 🎉 ❤️ 🇫🇷',
]

HARD_CASES = [
    '', ' ', '   ', '\t', '\n', 'a', '.', 'hello world', 'Hello World!',
    'ｆｕｌｌｗｉｄｔｈ', 'ＡＢＣ　ＤＥＦ', '１２３，４５６', 'ｶﾀｶﾅ ﾊﾟﾝ ｶﾞ', 'Ａ\u0301ｂ\u0308',
    '① ② ⑩ ⑳ ㉑ ㊿', 'ﬁnancial ﬂow oﬀer ﬃ', '™ ℠ ½ ¼ ² ³ ㎏ ㍿ ℃ ℉ Ⅻ ⅻ ℌ ℍ Å',
    'café', 'cafe\u0301', 'nai\u0308ve', 'e\u0301\u0301\u0301', 'a\u0308\u0304', '\u0301start with a mark',
    'A\u030a Å Å', 'ǅ ǈ ǋ', 'İstanbul ß ẞ ﬅ', '\u1100\u1161\u11a8 각 \u3131',
    'tab\there', 'new\nline', 'crlf\r\nline', 'form\x0cfeed', 'vertical\x0btab', '\x85next line',
    'zero\u200bwidth', 'non\u200cjoiner and\u200djoiner', '\u200e\u200fmarks', '\ufeffBOM at start', 'in\ufeffside',
    'ctrl\x01\x02\x07\x1fchars', 'del\x7f and \x8f and \x9f', '\x00nul', 'nul\x00inside', 'esc\x1b[0m',
    '\u00a0nbsp\u00a0here', 'soft\u00adhyphen', '\u2028line\u2029para', '\u3000ideographic space', 'thin\u2009space\u202fnarrow',
    'en\u2002em\u2003spaces', '\u1680ogham', '\u2581 lower block', '▁▁', '\ufffd replacement', '\u2060word joiner',
    'emoji 😀👍🏽 ok', '👨\u200d👩\u200d👧\u200d👦 family', '🇫🇷🇩🇪 flags', '❤️ red heart', '1️⃣ keycap', '🏳️\u200d🌈',
    '中文测试', '一个男人在弹吉他', '日本語のテキスト', '한국어 문장', '𠀀𠀁 extension B', '齉龘 rare',
    'हिन्दी', 'क्षत्रिय', 'नमस्ते दुनिया', 'ภาษาไทย', 'สวัสดีครับ', 'กำ ที่ น้ำ', 'தமிழ்', 'বাংলা',
    'Ελληνικά Σίσυφος ΣΊΣΥΦΟΣ', 'Русский текст', 'العربية', 'עברית', 'Zażółć gęślą jaźń', 'Tiếng Việt',
    'multiple    spaces   here', '  leading spaces', 'trailing spaces   ', '   both   ', 'a \t b \n c',
    ' \u3000 mixed \u00a0 spaces ', 'x' * 60, 'supercalifragilisticexpialidocious',
    '<mask>', 'the <mask> sat on the mat', 'a<mask>b', '<mask><mask>', ' <mask> ', 'hello <s> world </s>',
    '<unk> literal', '<pad>', '<s>', '</s>', '<mask', 'mask>',
    'mixed 123,456.78 $5 €10 £3 ¥100', 'e-mail: someone@example.com, https://example.org/a?b=c',
    '"quotes" ‘single’ “double” «guillemets» „low“', '— – - ‐ ‑ ‒', '…...', "it's don't I'm",
    'UPPER lower MiXeD', '3.14159 2,718 1e-10 0x1F', '((nested)) [brackets] {braces}', '#hashtag @mention',
    'The quick brown fox jumps over the lazy dog. ' * 12,
]


def read_stsb(path, limit=None):
    out = []
    with open(path, encoding='utf8') as f:
        for row in f:
            parts = row.rstrip('\n').split('\t')
            if len(parts) >= 7:
                out += [parts[5], parts[6]]
    return out if limit is None else out[:limit]


def read_msmarco(limit):
    out = []
    with open(os.path.join(SHARED, 'msmarco', 'corpus.jsonl'), encoding='utf8') as f:
        for line in f:
            out.append(json.loads(line)['text'])
            if len(out) >= limit:
                break
    return out


def corpus():
    lines = read_stsb(os.path.join(SHARED, 'stsb', 'sts-train.csv'))
    lines += read_msmarco(1500)
    lines += MULTILINGUAL * 30
    return lines


def train(model_dir):
    prefix = os.path.join(model_dir, 'sentencepiece.bpe')
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus()), model_prefix=prefix, vocab_size=VOCAB_SIZE, model_type='unigram',
        normalization_rule_name='nmt_nfkc', character_coverage=0.9995, minloglevel=2, seed_sentencepiece_size=200000)
    os.remove(prefix + '.vocab')
    return prefix + '.model'


def stsb_dev_cases(n):
    seen, out = set(), []
    for s in read_stsb(os.path.join(SHARED, 'stsb', 'sts-dev.csv')):
        if s not in seen:
            seen.add(s)
            out.append(s)
        if len(out) >= n:
            break
    return out


def variants(saved, model_file, fast):
    """tokenizer.json variants, each as the top-level keys that differ from the saved file."""
    out = {'transformers5': {}}
    conv = XLMRobertaConverter(fast).converted()
    conv_json = json.loads(conv.to_str())
    out['converter'] = {k: conv_json[k] for k in ('normalizer', 'pre_tokenizer') if conv_json[k] != saved[k]}
    charsmap = saved['normalizer']['precompiled_charsmap']
    added = copy.deepcopy(saved['added_tokens'])
    for t in added:
        if t['content'] == '<mask>':
            t['lstrip'] = True
    out['hub'] = {
        'normalizer': {'type': 'Sequence', 'normalizers': [
            {'type': 'Precompiled', 'precompiled_charsmap': charsmap},
            {'type': 'Replace', 'pattern': {'Regex': ' {2,}'}, 'content': ' '}]},
        'pre_tokenizer': {'type': 'Metaspace', 'replacement': '\u2581', 'add_prefix_space': True},
        'added_tokens': added,
    }
    out['nmt'] = {
        'normalizer': {'type': 'Sequence', 'normalizers': [
            {'type': 'Nmt'}, {'type': 'NFKC'}, {'type': 'Replace', 'pattern': {'Regex': ' {2,}'}, 'content': ' '}]},
        'pre_tokenizer': {'type': 'Metaspace', 'replacement': '\u2581', 'prepend_scheme': 'always', 'split': True},
    }
    return out


def main():
    texts = HARD_CASES + stsb_dev_cases(200)
    scratch = tempfile.mkdtemp(prefix='spm-')
    try:
        model_file = train(scratch)
        fast = transformers.XLMRobertaTokenizerFast.from_pretrained(scratch, model_max_length=128)
        shutil.rmtree(OUT_DIR, ignore_errors=True)
        fast.save_pretrained(OUT_DIR)
        for extra in ('special_tokens_map.json', 'chat_template.jinja'):
            if os.path.exists(os.path.join(OUT_DIR, extra)):
                os.remove(os.path.join(OUT_DIR, extra))
        saved = json.load(open(os.path.join(OUT_DIR, 'tokenizer.json'), encoding='utf8'))
        all_variants = variants(saved, model_file, fast)
        charsmap = saved['normalizer']['precompiled_charsmap']

        goldens = {'note': 'Rust tokenizers %s ids (transformers %s, sentencepiece %s) for test/fixtures/xlmr-spm-tokenizer; '
                           'scripts/reference/train_spm_tokenizer.py' % (tokenizers.__version__, transformers.__version__, spm.__version__),
                   'texts': texts, 'truncate_at': TRUNCATE_AT, 'batch': BATCH, 'variants': {}}
        for name, patch in all_variants.items():
            tok = tokenizers.Tokenizer.from_str(json.dumps({**saved, **patch}))
            ids = [e.ids for e in tok.encode_batch(texts)]
            entry = {'patch': json.loads(json.dumps(patch).replace(json.dumps(charsmap), json.dumps(SAME_CHARSMAP))), 'ids': ids}
            if name == 'transformers5':
                reloaded = transformers.AutoTokenizer.from_pretrained(OUT_DIR)
                assert [reloaded(t)['input_ids'] for t in texts] == ids, 'transformers and tokenizers disagree'
                entry['truncated'] = [reloaded(t, truncation=True, max_length=TRUNCATE_AT)['input_ids'] for t in texts]
                batches = []
                for i in range(0, len(texts), BATCH):
                    enc = reloaded(texts[i:i + BATCH], padding=True, truncation=True)
                    batches.append({'input_ids': enc['input_ids'], 'attention_mask': enc['attention_mask']})
                entry['batches'] = batches
            goldens['variants'][name] = entry

        # How far the Rust pipeline is from sentencepiece itself (information only).
        sp = spm.SentencePieceProcessor(model_file=model_file)
        base = goldens['variants']['transformers5']['ids']
        same = sum(1 for t, ids in zip(texts, base) if [0] + [i + 1 if i else 3 for i in sp.encode(t)] + [2] == ids)
        print(f'sentencepiece agrees with Rust tokenizers on {same}/{len(texts)} texts', file=sys.stderr)
        with open(GOLDENS, 'w', encoding='utf8') as f:
            json.dump(goldens, f, ensure_ascii=False, separators=(',', ':'))
            f.write('\n')
        sizes = {n: os.path.getsize(os.path.join(OUT_DIR, n)) for n in os.listdir(OUT_DIR)}
        print(f'wrote {OUT_DIR} {sizes} and {GOLDENS} ({os.path.getsize(GOLDENS)} bytes)', file=sys.stderr)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == '__main__':
    main()
