"""The OpenAPI 3.1 description of the JSON API (kept true by tests/test_web_api.py)."""

from __future__ import annotations

from search.request import DEFAULT_PAGE_SIZE, MAX_PAGE, MAX_PAGE_SIZE, SORTS
from search.suggestions import KINDS, MAX_SUGGEST_CHARS

from .params import MAX_DATE_CHARS, MAX_FILTER_VALUES, MAX_Q_CHARS, MAX_VALUE_CHARS

_STRING_OR_NULL = {"type": ["string", "null"]}
_COUNTS = {"type": "array", "items": {"$ref": "#/components/schemas/Count"}}

SCHEMAS = {
    "Count": {
        "type": "object", "required": ["value", "count"], "additionalProperties": False,
        "properties": {"value": {"type": "string"}, "count": {"type": "integer", "minimum": 0}},
    },
    "Provider": {
        "type": "object", "required": ["name", "domain"], "additionalProperties": False,
        "properties": {"name": {"type": "string"}, "domain": {"type": "string"}},
    },
    "Copy": {
        "type": "object", "required": ["id", "title", "url", "provider", "published"], "additionalProperties": False,
        "description": "Another copy of the same story (syndicated or re-published).",
        "properties": {
            "id": {"type": "string"}, "title": {"type": "string"}, "url": {"type": "string"},
            "provider": {"$ref": "#/components/schemas/Provider"}, "published": _STRING_OR_NULL,
        },
    },
    "Result": {
        "type": "object",
        "required": ["id", "title", "excerpt", "url", "provider", "published", "topics", "image", "score", "highlights",
                     "duplicates", "duplicate_count"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "description": "Path of the article file under the data folder, without .md."},
            "title": {"type": "string"},
            "excerpt": {"type": "string"},
            "url": {"type": "string"},
            "provider": {"$ref": "#/components/schemas/Provider"},
            "published": {**_STRING_OR_NULL, "description": "ISO 8601 UTC, e.g. 2022-07-08T15:08:00Z"},
            "topics": {"type": "array", "items": {"type": "string"}},
            "image": {"type": "string"},
            "score": {"type": "number"},
            "highlights": {
                "type": "object", "required": ["title", "snippet"], "additionalProperties": False,
                "description": "HTML: text escaped, matched words wrapped in <mark>.",
                "properties": {"title": {"type": "string"}, "snippet": {"type": "string"}},
            },
            "duplicates": {"type": "array", "items": {"$ref": "#/components/schemas/Copy"}, "maxItems": 5,
                           "description": "Other copies of this story, collapsed into this result (collapse=1): "
                                          "the best five."},
            "duplicate_count": {"type": "integer", "minimum": 0,
                                "description": "How many other copies there are in all."},
        },
    },
    "SearchResponse": {
        "type": "object",
        "required": ["query", "sort", "total", "page", "page_size", "pages", "results", "facets", "timeline", "partial",
                     "took_ms"],
        "additionalProperties": False,
        "properties": {
            "query": {
                "type": "object", "required": ["text", "read_as", "notes", "fallback", "filters", "spelling"],
                "additionalProperties": False,
                "properties": {
                    "text": {"type": "string"},
                    "read_as": {"type": "string", "description": "How the query was read."},
                    "notes": {"type": "array", "items": {"type": "string"},
                              "description": "Every repair or reinterpretation of the query."},
                    "fallback": {"type": "boolean",
                                 "description": "True when no article had every word and these match most of them."},
                    "spelling": {
                        "type": ["object", "null"], "required": ["corrected", "applied", "typed_total"],
                        "additionalProperties": False,
                        "description": "A spelling correction: applied (these results are for it) when it is sure and "
                                       "nothing matched as typed, or only suggested. Null when there is none.",
                        "properties": {"corrected": {"type": "string"}, "applied": {"type": "boolean"},
                                       "typed_total": {"type": "integer", "minimum": 0,
                                                       "description": "Results for the words as typed (0: none)."}},
                    },
                    "filters": {
                        "type": "object", "required": ["topics", "sources", "since", "until"],
                        "additionalProperties": False,
                        "properties": {
                            "topics": {"type": "array", "items": {"type": "string"}},
                            "sources": {"type": "array", "items": {"type": "string"}},
                            "since": _STRING_OR_NULL, "until": _STRING_OR_NULL,
                        },
                    },
                },
            },
            "sort": {"enum": list(SORTS)},
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "page_size": {"type": "integer", "minimum": 1},
            "pages": {"type": "integer", "minimum": 0},
            "results": {"type": "array", "items": {"$ref": "#/components/schemas/Result"}},
            "facets": {
                "type": "object", "required": ["topics", "providers", "years"], "additionalProperties": False,
                "properties": {"topics": _COUNTS, "providers": _COUNTS, "years": _COUNTS},
            },
            "timeline": {
                "type": "object", "required": ["unit", "buckets"], "additionalProperties": False,
                "properties": {
                    "unit": {"enum": ["month", "year"]},
                    "buckets": {"type": "array", "items": {
                        "type": "object", "required": ["period", "count"], "additionalProperties": False,
                        "properties": {"period": {"type": "string"}, "count": {"type": "integer", "minimum": 0}},
                    }},
                },
            },
            "partial": {"type": "boolean", "description": "The search ran out of its time budget "
                        "(NEWSEARCH_TIME_BUDGET, 2 s by default): total, facets and results come from the part "
                        "of the archive searched by then."},
            "took_ms": {"type": "number", "minimum": 0},
        },
    },
    "Related": {
        "type": "object", "required": ["title", "excerpt", "url", "provider", "domain", "published"],
        "additionalProperties": False,
        "properties": {
            "title": {"type": "string"}, "excerpt": {"type": "string"}, "url": {"type": "string"},
            "provider": {"type": "string"}, "domain": {"type": "string"}, "published": _STRING_OR_NULL,
        },
    },
    "Article": {
        "type": "object",
        "required": ["id", "path", "title", "excerpt", "body", "url", "original_url", "provider", "published",
                     "updated", "topics", "image", "category", "type", "quality", "heat", "published_flag",
                     "related", "extra", "similar"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string"}, "path": {"type": "string"}, "title": {"type": "string"},
            "excerpt": {"type": "string"}, "body": {"type": "string"}, "url": {"type": "string"},
            "original_url": {"type": "string"}, "provider": {"$ref": "#/components/schemas/Provider"},
            "published": _STRING_OR_NULL, "updated": _STRING_OR_NULL,
            "topics": {"type": "array", "items": {"type": "string"}}, "image": {"type": "string"},
            "category": {"type": "string"}, "type": {"type": "string"},
            "quality": {"type": ["number", "null"]}, "heat": {"type": ["number", "null"]},
            "published_flag": {"type": ["boolean", "null"]},
            "related": {"type": "array", "items": {"$ref": "#/components/schemas/Related"}},
            "extra": {"type": "object", "description": "Front matter fields the schema does not know."},
            "similar": {"type": "array", "items": {"$ref": "#/components/schemas/Result"}},
        },
    },
    "Suggestions": {
        "type": "object", "required": ["query", "suggestions"], "additionalProperties": False,
        "properties": {
            "query": {"type": "string"},
            "suggestions": {"type": "array", "items": {
                "type": "object", "required": ["text", "kind"], "additionalProperties": False,
                "properties": {"text": {"type": "string"}, "kind": {"enum": list(KINDS)}},
            }},
        },
    },
    "Health": {
        "type": "object", "required": ["status", "documents", "generation", "built", "updated", "age_seconds"],
        "additionalProperties": False,
        "properties": {
            "status": {"const": "ok"}, "documents": {"type": "integer", "minimum": 0},
            "generation": {"type": "string"}, "built": _STRING_OR_NULL, "updated": _STRING_OR_NULL,
            "age_seconds": {"type": ["integer", "null"]},
        },
    },
    "Error": {
        "type": "object", "required": ["error"], "additionalProperties": False,
        "properties": {"error": {
            "type": "object", "required": ["status", "title", "message"], "additionalProperties": False,
            "properties": {"status": {"type": "integer"}, "title": {"type": "string"}, "message": {"type": "string"}},
        }},
    },
}


def _param(name: str, description: str, schema: dict, explode: bool = False) -> dict:
    param = {"name": name, "in": "query", "required": False, "description": description, "schema": schema}
    if explode:
        param.update(style="form", explode=True)
    return param


SEARCH_PARAMETERS = [
    _param("q", "The query, in the query language (see README).", {"type": "string", "maxLength": MAX_Q_CHARS}),
    _param("topic", "Only articles with one of these topics.",
           {"type": "array", "items": {"type": "string", "maxLength": MAX_VALUE_CHARS}, "maxItems": MAX_FILTER_VALUES},
           explode=True),
    _param("source", "Only articles from one of these providers (name or domain).",
           {"type": "array", "items": {"type": "string", "maxLength": MAX_VALUE_CHARS}, "maxItems": MAX_FILTER_VALUES},
           explode=True),
    _param("since", "Published on or after: 2022, 2022-07, 2022-07-08, 7d, 2w, 3m, 1y.",
           {"type": "string", "maxLength": MAX_DATE_CHARS}),
    _param("until", "Published on or before (same forms).", {"type": "string", "maxLength": MAX_DATE_CHARS}),
    _param("sort", "Order of results.", {"enum": list(SORTS), "default": "relevance"}),
    _param("page", "Page number.", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}),
    _param("size", "Results per page.", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE}),
    _param("collapse", "1: show each story once, its other copies in `duplicates`; 0: every copy.",
           {"type": "integer", "enum": [0, 1], "default": 1}),
    _param("correct", "1: when nothing matches, show results for a spelling correction; 0: search exactly as typed.",
           {"type": "integer", "enum": [0, 1], "default": 1}),
    _param("synonyms", "1: words and phrases of the synonyms list also find their synonyms; 0: only the typed words.",
           {"type": "integer", "enum": [0, 1], "default": 1}),
]


def _json(schema: str, description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def spec(server: str = "") -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "newsearch API", "version": "1.0.0",
                 "description": "Keyword search over a news archive. Every error is JSON with a message."},
        "servers": [{"url": server}] if server else [],
        "paths": {
            "/api/search": {"get": {
                "summary": "Search articles", "operationId": "search", "parameters": SEARCH_PARAMETERS,
                "responses": {"200": _json("SearchResponse", "Results, facets, timeline and how the query was read"),
                              "400": _json("Error", "A parameter is invalid")},
            }},
            "/api/articles/{id}": {"get": {
                "summary": "One article with its similar articles", "operationId": "article",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"},
                                "description": "Article id (may contain slashes)"}],
                "responses": {"200": _json("Article", "The article"), "404": _json("Error", "No article with this id")},
            }},
            "/api/suggest": {"get": {
                "summary": "Completions for a prefix (search as you type)", "operationId": "suggest",
                "parameters": [_param("q", "What has been typed so far.", {"type": "string", "maxLength": MAX_SUGGEST_CHARS})],
                "responses": {"200": _json("Suggestions", "Topics, sources, titles and words"),
                              "400": _json("Error", "A parameter is invalid")},
            }},
            "/api/health": {"get": {
                "summary": "Index size and freshness", "operationId": "health",
                "description": "Opens the searcher the searches use (reopening it if the index changed).",
                "responses": {"200": _json("Health", "The index is open"),
                              "503": _json("Error", "There is no index yet, or it cannot be opened "
                                                    "(the message says why)")},
            }},
        },
        "components": {"schemas": SCHEMAS},
    }
