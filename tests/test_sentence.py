"""The sentence stage: the real loading and generation code on a tiny T5 built here with the real
FLAN-T5 tokenizer (its words are gibberish: we test the flow, the prompt, the limits, the fallback)."""

import shutil

import pytest
import torch

from slr_core.base.text import clean_word
from slr_core.cli import main as slr
from slr_core.language.sentence import (
    MAX_KEYWORDS,
    PROMPT,
    RuleComposer,
    T5Composer,
    clean_keywords,
    find_t5,
    load_composer,
)

from .conftest import TOKENIZER

needs_tokenizer = pytest.mark.skipif(
    not TOKENIZER.is_dir(), reason=f"the shared tokenizer is absent ({TOKENIZER})"
)


@pytest.fixture(scope="module")
def tiny_t5(tmp_path_factory):
    if not TOKENIZER.is_dir():
        pytest.skip("the shared tokenizer is absent")
    from transformers import AutoTokenizer, T5Config, T5ForConditionalGeneration

    folder = tmp_path_factory.mktemp("tiny-t5")
    tokenizer = AutoTokenizer.from_pretrained(TOKENIZER)
    config = T5Config(vocab_size=32128, d_model=32, d_ff=64, d_kv=8, num_layers=1, num_decoder_layers=1,
                      num_heads=2, feed_forward_proj="gated-gelu", decoder_start_token_id=0, pad_token_id=0,
                      eos_token_id=1)  # fmt: skip
    torch.manual_seed(0)
    T5ForConditionalGeneration(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(autouse=True)
def no_user_settings(monkeypatch, tmp_path):
    monkeypatch.delenv("SLR_T5_PATH", raising=False)
    monkeypatch.delenv("SLR_T5_MODEL", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hf-cache"))


@needs_tokenizer
def test_t5_from_a_local_folder(tiny_t5):
    composer, why = load_composer(tiny_t5)
    assert isinstance(composer, T5Composer) and why == ""
    assert composer.name.startswith("FLAN-T5")
    a = composer.compose(["hello", "thankyou", "mom"])
    b = composer.compose(["hello", "thankyou", "mom"])
    assert a.text == b.text and a.composer == b.composer  # deterministic decoding
    assert a.composer.startswith("FLAN-T5") and isinstance(a.text, str) and a.text
    prompt = composer.prompt(["hello", "thankyou"])
    assert prompt == PROMPT.format(keywords="hello thankyou")
    assert prompt.endswith("could possibly be trying to communicate: hello thankyou")
    ids = composer.tokenizer(prompt)["input_ids"]
    assert ids[-1] == 1 and composer.tokenizer.decode(ids, skip_special_tokens=True) == prompt


@needs_tokenizer
def test_t5_through_the_environment_and_the_hf_cache(tiny_t5, tmp_path, monkeypatch):
    monkeypatch.setenv("SLR_T5_PATH", str(tiny_t5))
    assert isinstance(load_composer()[0], T5Composer)
    monkeypatch.delenv("SLR_T5_PATH")
    # The Hugging Face cache layout: models--org--name/snapshots/<revision>/ and refs/main.
    cache = tmp_path / "hf"
    snap = cache / "models--google--flan-t5-small" / "snapshots" / "0123abcd"
    shutil.copytree(tiny_t5, snap)
    (cache / "models--google--flan-t5-small" / "refs").mkdir()
    (cache / "models--google--flan-t5-small" / "refs" / "main").write_text("0123abcd")
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    assert find_t5() == ("google/flan-t5-small", "")
    composer, why = load_composer()
    assert isinstance(composer, T5Composer) and composer.source == "google/flan-t5-small"
    assert composer.compose(["dog"]).composer.startswith("FLAN-T5")


@needs_tokenizer
def test_limits_and_odd_input(tiny_t5):
    composer, _ = load_composer(tiny_t5)
    many = [f"word{i}" for i in range(400)]
    s = composer.compose(many)
    assert f"used the last {MAX_KEYWORDS} of 400 keywords" == s.note
    odd = composer.compose(["  héllo ", "🤟", "\x00\x07bad", "", "thank_you", "thank_you", "a" * 500])
    assert odd.composer.startswith("FLAN-T5")
    empty = composer.compose([])
    assert empty.text == "" and "no keywords" in empty.note


def test_clean_keywords():
    raw = ["hello", "hello", " dog\n", "ice_cream", "\x00", "x" * 100, None, "🤟", "a,b", "I'm", "hello"]
    words, note = clean_keywords(raw)
    # None and words with nothing word-like in them are dropped (never the text "None"); repeats in a
    # row merge; commas (the URL's separator) and symbols go; apostrophes stay
    assert words == ["hello", "dog", "ice cream", "x" * 40, "ab", "I'm", "hello"] and note == ""
    assert clean_word(None) == "" and clean_word("  thank_you  ") == "thank you"


# Gloss sequences as recognised (signing order) and the sentence the rule-based composer must write.
GLOSS_TABLE = [
    ("mom eat apple", "Mom eats an apple."),
    ("dog cat happy", "The dog and the cat are happy."),
    ("i want drink water", "I want to drink water."),
    ("hello thankyou", "Hello, thank you."),
    ("yesterday mom eat apple", "Mom ate an apple yesterday."),
    ("tomorrow weus go store", "We will go to the store tomorrow."),
    ("minemy dog hungry", "My dog is hungry."),
    ("hesheit not like milk", "He does not like milk."),
    ("i not happy", "I am not happy."),
    ("where dog", "Where is the dog?"),
    ("mom where", "Where is Mom?"),
    ("who you", "Who are you?"),
    ("why sad", "Why are you sad?"),
    ("haveto go home", "I have to go home."),
    ("i like frenchfries", "I like french fries."),
    ("dad callonphone yesterday", "Dad called yesterday."),
    ("hello minemy name Maria", "Hello, my name is Maria."),
    ("yes i hungry", "Yes, I am hungry."),
    ("girl drink milk now", "The girl drinks milk now."),
    ("dog animal", "The dog is an animal."),
    ("grandma sleepy", "Grandma is sleepy."),
    ("weus happy yesterday", "We were happy yesterday."),
    ("mom go outside", "Mom goes outside."),
    ("icecream", "Ice cream."),
]


@pytest.mark.parametrize("glosses, sentence", GLOSS_TABLE)
def test_rule_composer_writes_english(glosses, sentence):
    assert RuleComposer().compose(glosses.split()).text == sentence


def test_rule_composer_limits():
    r = RuleComposer()
    assert r.compose([]).text == ""
    long = r.compose([f"w{i}" for i in range(300)])
    assert long.note.startswith("used the last") and long.text.endswith(".")


def test_fallback_reasons(tmp_path):
    composer, why = load_composer(tmp_path / "nowhere")
    assert isinstance(composer, RuleComposer) and "no config.json" in why
    composer, why = load_composer()
    assert isinstance(composer, RuleComposer) and "not in the Hugging Face cache" in why


@needs_tokenizer
def test_unreadable_model_folder_falls_back(tiny_t5, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_t5, broken)
    (broken / "model.safetensors").write_bytes(b"not weights")
    composer, why = load_composer(broken)
    assert isinstance(composer, RuleComposer) and "could not be loaded" in why


@needs_tokenizer
def test_slr_translate_with_both_composers(tiny_t5, capsys):
    assert slr(["translate", "hello", "thankyou"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == ["Hello, thank you.", "composer: rule-based"] and "no FLAN-T5 weights" in err
    assert slr(["translate", "--t5", str(tiny_t5), "hello", "thankyou"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("composer: FLAN-T5")
    assert slr(["translate"]) == 0
    assert "no keywords" in capsys.readouterr().out
