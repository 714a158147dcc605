"""The stronger option: fine-tune a small transformer (Hugging Face `transformers`).

Switch it on with `model.type: transformer` in configs/config.yaml after
`pip install -e ".[transformer]"`. With `model.transformer.pretrained: null` it builds a
tiny randomly initialised model and a tokenizer trained on your texts: no download, which is
how the tests exercise this code path.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from .features import clean_text
from .settings import TransformerSettings


def _tiny_model_and_tokenizer(
    texts: Sequence[str], num_labels: int, max_length: int
) -> tuple[Any, Any]:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import (
        DistilBertConfig,
        DistilBertForSequenceClassification,
        PreTrainedTokenizerFast,
    )

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    core = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    core.normalizer = normalizers.BertNormalizer(lowercase=True)
    core.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    core.train_from_iterator(
        texts, trainers.WordPieceTrainer(vocab_size=2000, special_tokens=specials)
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )
    config = DistilBertConfig(
        vocab_size=core.get_vocab_size(),
        dim=32,
        hidden_dim=64,
        n_layers=1,
        n_heads=2,
        max_position_embeddings=max(max_length, 64),
        num_labels=num_labels,
    )
    return DistilBertForSequenceClassification(config), tokenizer


class TransformerClassifier:
    """A scikit-learn-like wrapper (fit / predict_proba / classes_) so evaluate works unchanged."""

    def __init__(self, config: TransformerSettings, seed: int = 42) -> None:
        self.config = config
        self.seed = seed
        self.classes_: list[str] = []
        self.model: Any = None
        self.tokenizer: Any = None

    def _encode(self, texts: Sequence[str]) -> Any:
        cleaned = [clean_text(t) for t in texts]
        return self.tokenizer(
            cleaned,
            truncation=True,
            padding=True,
            max_length=self.config.max_length,
            return_tensors="pt",
        )

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> TransformerClassifier:
        import torch
        from torch.utils.data import DataLoader, TensorDataset

        torch.manual_seed(self.seed)
        self.classes_ = sorted(set(labels))
        index = {label: i for i, label in enumerate(self.classes_)}
        if self.config.pretrained:
            from transformers import AutoModelForSequenceClassification, AutoTokenizer

            self.tokenizer = AutoTokenizer.from_pretrained(self.config.pretrained)
            self.model = AutoModelForSequenceClassification.from_pretrained(
                self.config.pretrained, num_labels=len(self.classes_)
            )
        else:
            self.model, self.tokenizer = _tiny_model_and_tokenizer(
                [clean_text(t) for t in texts], len(self.classes_), self.config.max_length
            )
        encoded = self._encode(texts)
        targets = torch.tensor([index[label] for label in labels])
        loader = DataLoader(
            TensorDataset(encoded["input_ids"], encoded["attention_mask"], targets),
            batch_size=self.config.batch_size,
            shuffle=True,
            generator=torch.Generator().manual_seed(self.seed),
        )
        optimizer = torch.optim.AdamW(self.model.parameters(), lr=self.config.learning_rate)
        self.model.train()
        for epoch in range(self.config.epochs):
            total = 0.0
            for step, (ids, mask, y) in enumerate(loader, start=1):
                optimizer.zero_grad()
                loss = self.model(input_ids=ids, attention_mask=mask, labels=y).loss
                loss.backward()
                optimizer.step()
                total += loss.item()
                if step % 50 == 0 or step == len(loader):
                    print(
                        f"epoch {epoch + 1}/{self.config.epochs} step {step}/{len(loader)} "
                        f"loss {total / step:.4f}",
                        file=sys.stderr,
                        flush=True,
                    )
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        self.model.eval()
        batches = []
        with torch.no_grad():
            for start in range(0, len(texts), 64):
                encoded = self._encode(texts[start : start + 64])
                logits = self.model(**encoded).logits
                batches.append(torch.softmax(logits, dim=-1).numpy())
        return np.concatenate(batches) if batches else np.zeros((0, len(self.classes_)))

    def predict(self, texts: Sequence[str]) -> list[str]:
        return [self.classes_[i] for i in self.predict_proba(texts).argmax(axis=1)]
