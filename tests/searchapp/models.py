from __future__ import annotations

from django.contrib.postgres.search import SearchVectorField
from django.db import models
from pgvector.django import VectorField

from campus.search import search_indexes


class Doc(models.Model):
    organisation = models.ForeignKey("campus.Organisation", on_delete=models.CASCADE)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    theme = models.CharField(max_length=40, blank=True)
    search_vector = SearchVectorField(null=True)
    embedding = VectorField(dimensions=384, null=True)
    embedding_model = models.CharField(max_length=120, blank=True)

    class Meta:
        app_label = "searchapp"
        indexes = search_indexes("searchapp_doc")

    def __str__(self) -> str:
        return self.title
