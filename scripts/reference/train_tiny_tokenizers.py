#!/usr/bin/env python3
"""Trains the tiny tokenizers the architecture tests use (no real tokenizer files can be
downloaded here), with the Rust `tokenizers` library, and saves them as transformers does:
  test/fixtures/roberta-tokenizer  byte-level BPE with RoBERTa's <s> … </s> post-processor;
  test/fixtures/mpnet-tokenizer    WordPiece over the tiny BERT vocabulary with MPNet's special
                                   tokens (<s> <pad> </s> <unk> first, <mask> last).
(The architecture goldens of xlm-roberta were made with the roberta one; XLM-RoBERTa's real
SentencePiece tokenizer, with its goldens, comes from train_spm_tokenizer.py beside this file.)
Usage: .venv/bin/python scripts/reference/train_tiny_tokenizers.py
"""
from tokenizers import ByteLevelBPETokenizer
from tokenizers.processors import RobertaProcessing
import transformers

WORDS = ('a an the man woman child dog cat bird car house tree plays runs sleeps eats sings drives reads walks '
         'guitar piano ball book road park food song fast slowly loudly quietly red blue green big small old new '
         'happy sad on in under near with and is are was').split()
CORPUS = [' '.join(WORDS[(i * 7 + j * 3) % len(WORDS)] for j in range(8)) + ('.' if i % 3 else ', and!') for i in range(400)]
CORPUS += [' '.join(WORDS)] * 5


def roberta(out):
    tok = ByteLevelBPETokenizer()
    tok.train_from_iterator(CORPUS, vocab_size=400, min_frequency=2, special_tokens=['<s>', '<pad>', '</s>', '<unk>', '<mask>'])
    tok.post_processor = RobertaProcessing(('</s>', tok.token_to_id('</s>')), ('<s>', tok.token_to_id('<s>')), add_prefix_space=False)
    fast = transformers.RobertaTokenizerFast(tokenizer_object=tok, bos_token='<s>', eos_token='</s>', sep_token='</s>', cls_token='<s>',
                                             unk_token='<unk>', pad_token='<pad>', mask_token='<mask>', model_max_length=512)
    fast.save_pretrained(out)


def mpnet(out):
    words = [w for w in open('test/fixtures/tiny-tokenizer/vocab.txt').read().split('\n') if w]
    vocab = {w: i for i, w in enumerate(['<s>', '<pad>', '</s>', '<unk>'] + words + ['<mask>'])}
    tok = transformers.MPNetTokenizerFast(vocab=vocab, do_lower_case=True, model_max_length=512)
    tok.save_pretrained(out)


if __name__ == '__main__':
    roberta('test/fixtures/roberta-tokenizer')
    mpnet('test/fixtures/mpnet-tokenizer')
