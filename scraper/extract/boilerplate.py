"""Extraction heuristics as data: tags, class/id tokens, text patterns and thresholds.

Input: nothing. Read by the content steps (clean.py, score.py, extent.py, prune.py, and
their shared helpers flatten.py, text.py, lines.py), by kind.py, and for the few
definitions the metadata step shares with them (hidden tags, schema.org types) by
metadata.py, titles.py, authors.py and dates.py. One heading per step that reads a
constant; a constant more than one step reads is under "shared". Tuning extraction
should mostly mean editing this file. Every constant says why it is here.
"""

from __future__ import annotations

import re

# === shared by several content steps: flatten.py, text.py, lines.py and callers ==========================

# Tags that end a text paragraph when the text is flattened.
BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "blockquote",
        "body",
        "center",
        "dd",
        "details",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "html",
        "li",
        "main",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
        "caption",
    }
)

# Headings: never scored as prose, never the last line of a text.
HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# Inline emphasis kept in the cleaned HTML, by the tag it is rendered as.
EMPHASIS_TAGS = {"em": "em", "i": "em", "strong": "strong", "b": "strong", "code": "code"}
EMPTY_INLINE_RE = re.compile(r"<(em|strong|code)>\s*</\1>")

# Class/id strings are split into tokens on whitespace, "-" and "_".
NAME_TOKEN_SPLIT_RE = re.compile(r"[\s_\-]+")

# One CJK character carries about as much as this many Latin characters
# (a Chinese word is ~1.5 characters, an English word ~6 with its space).
CJK_WEIGHT = 3

CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")

# Clause punctuation, ASCII and CJK: readability counts commas as a sign of prose.
PUNCTUATION_RE = re.compile(r"[,，、;；。！？!?]|\.\s")

# The end of a sentence, closing quotes and brackets allowed.
SENTENCE_END_RE = re.compile(r"[.!?。！？…]\s*[\"'”’»)]?\s*$")

# A paragraph of at least this many CJK-weighted characters, with clause
# punctuation and few links, reads as prose: it rescues a <header> holding
# the lede and a boilerplate-named wrapper holding the article.
PROSE_PARAGRAPH_CHARS = 100
# ... and "few links" means link text under this share of the paragraph's text.
PROSE_MAX_LINK_DENSITY = 0.3

# Link density above which a block inside the main content is a link list (step 4),
# and above which a paragraph gives no score to its containers (step 3).
MAX_LINK_DENSITY = 0.5
# ... and above which a short block (under LINK_BLOCK_SHORT_CHARS) is one.
MAX_LINK_DENSITY_SHORT = 0.3
LINK_BLOCK_SHORT_CHARS = 200

# Class/id hints scored for main-block selection (readability's weights); a boilerplate-
# named block whose name also reads as content (POSITIVE_RE) may be kept in step 1.
POSITIVE_RE = re.compile(
    r"article|body|content|entry|hentry|h-entry|main|page|pagination|post|text|blog|story|"
    r"trs_editor|zhengwen|neirong|detail|artibody|con_txt|news_txt",
    re.IGNORECASE,
)
NEGATIVE_RE = re.compile(
    r"-ad-|hidden|^hid$| hid$| hid |^hid |banner|combx|comment|com-|contact|foot|footer|footnote|"
    r"gdpr|masthead|media|meta|outbrain|promo|related|scroll|share|shoutbox|sidebar|skyscraper|"
    r"sponsor|shopping|tags|tool|widget|nav|menu|breadcrumb|copyright|cookie|subscribe|newsletter|"
    r"popular|recommend|hot|partner|login|signup",
    re.IGNORECASE,
)
CLASS_WEIGHT = 25

# A caption is an element named so ("wp-caption-text", "media__caption",
# "post-image-credits", "legend") or a <figcaption>; one that comes before
# the article's first prose paragraph belongs to the lead image over the
# headline (trafilatura set: td-post-featured-image, header figures), which
# the article text leaves out, while captions inside the text stay.
# A caption is a few lines (with its label and credit, up to 460 characters
# on readability's nytimes pages); a longer element named so is a video's or
# a gallery's description (zdf "item-caption", 1,100).
CAPTION_NAME_RE = re.compile(r"caption|credit|legend|img-meta|image-meta", re.IGNORECASE)
CAPTION_MAX_CHARS = 600

# Separators between a headline and the site name in <title>: "Headline - Site", "标题_网站".
TITLE_SEPARATOR_RE = re.compile(r"\s[-|–—:·]\s|[_|｜–—]")

# What a line is compared in: no punctuation or spaces (text.norm).
NON_WORD_RE = re.compile(r"\W+")
# A title form shorter than this (normalised) matches too many lines to strip one.
TITLE_FORM_MIN_CHARS = 4
# A line repeats the headline when it is the title cut to at least this share of it,
# or the title with at most this growth (a site name added).
HEADLINE_MIN_CUT_SHARE = 0.8
HEADLINE_MAX_GROWTH = 1.5

# Copyright, licence and registration lines in any language; a short
# paragraph matching one is footer text even inside the main block. Written in lower case
# and matched against the lowered line (lines.is_boilerplate_text): without IGNORECASE the
# regex engine skips positions by their first character, 4x faster on the same lines.
COPYRIGHT_LINE_RE = re.compile(
    r"copyright\s*(?:©|\(c\)|&copy;)?\s*(?:\d{4})?|©|\(c\)\s*\d{4}|all rights reserved|"
    r"版权所有|版权声明|未经(?:授权|许可)?(?:禁止|不得|严禁)?(?:转载|复制)|禁止转载|"
    r"icp备\s*\d+|icp证\s*\d*|公网安备|网安备|增值电信业务经营许可证|违法和不良信息举报|"
    r"tous droits réservés|alle rechte vorbehalten|todos los derechos reservados|"
    r"tutti i diritti riservati|všechna práva vyhrazena|wszelkie prawa zastrzeżone|"
    r"全著作権所有|無断転載|무단\s*전재|저작권"
)
# Copyright lines longer than this are prose that mentions copyright, and stay.
COPYRIGHT_MAX_CHARS = 300

# "Partners: A | B | C", "友情链接：…": a link list written as one line.
PARTNER_LIST_RE = re.compile(
    r"^\s*(?:partners?|our partners|links|friends|合作伙伴|友情链接|合作媒体|相关链接)\s*[:：]", re.IGNORECASE
)

# Short lines that belong to sharing and reading furniture, not to the article.
FURNITURE_RE = re.compile(
    r"^(?:share(?: this(?: article| story| post)?)?|share on \w+|tweet|print|email|"
    r"read more|continue reading|advertisement|sponsored|related(?: articles| posts| stories)?|"
    r"you may also like|recommended|more from|sign up|subscribe(?: now)?|"
    # comment-section labels and prompts left after the article (trafilatura set: "Leave a Comment",
    # "Kommentare schreiben", "0 Comments", "Keine Kommentare"), and reading aids' labels
    r"leave a (?:comment|reply)|(?:post|add|write) a comment|(?:no |keine |\d+ )?(?:comments?|kommentare?)|"
    r"kommentar(?:e)? (?:schreiben|verfassen|hinterlassen)|schreibe(?:n sie)? einen kommentar|"
    r"deja un comentario|laisser un commentaire|lascia un commento|"
    r"table of contents|inhaltsverzeichnis|about the author|über den autor|"
    r"print recipe|rezept drucken|"
    r"分享到|分享|打印|关闭|返回顶部|相关新闻|相关阅读|相关文章|推荐阅读|热门推荐|责任编辑[:：].{0,12}|编辑[:：].{0,12}|"
    # Chinese news furniture after the text (cwced-zh-dev: yahoo, sohu, gov portals): comment and
    # print prompts, "open on your phone", the source line ("来源：新华网", "转自《北京科技报》")
    # and sohu's editor line "【编辑:刘欢】 返回搜狐，查看更多"
    r"发表评论|我要评论|打印本页|扫一扫在手机(?:上)?打开(?:当前|本)页|(?:文章|新闻|稿件|信息)?来源[:：]\s*\S{1,20}|"
    r"转(?:自|载自)\s*《[^》]{1,20}》|(?:【(?:责任)?编辑[:：][^】]{0,12}】\s*)?返回搜狐[，,]\s*查看更多|"
    r"【(?:责任)?编辑[:：][^】]{0,12}】)"
    r"[:：.!]?$",
    re.IGNORECASE,
)

# Calls to action and widget labels in an article's flow: paywall and
# subscription notes, "follow us"/"download our app" lines, rating and
# sharing prompts, loading placeholders, advertising labels (trafilatura set
# "without" snippets). Only lines up to PROMO_MAX_CHARS.
PROMO_RE = re.compile(
    # Lines that open with the prompt. Two groups, anchored and at a word start, so the regex
    # engine tries each group once per position, not each alternative (4x faster, same lines).
    r"^(?:"
    r"to (?:view|read|continue reading) (?:the|this) (?:full )?(?:story|article)\b.{0,40}\bsubscri|"
    r"war (?:der|dieser) (?:artikel|beitrag) (?:nützlich|hilfreich)|"
    r"möchten sie (?:den|diesen) (?:artikel|beitrag) teilen|hier können sie den artikel bewerten|"
    r"\(?noch keine bewertungen\)?$|(?:wird geladen|loading|cargando|chargement)\W*$|"
    # the WordPress.com likes widget, left as text: "Like this:", "Like Loading…"
    r"like(?: this)?\W*(?:loading\W*)?$|"
    r"\*?(?:werbung|anzeige)\b\W|\W*anzeige\W*$|"
    # comment forms for logged-out readers, "if you liked this" and shop/app/membership
    # prompts (trafilatura set "without" snippets, several sites each)
    r"keine kommentare\b|if you (?:enjoyed|liked) (?:reading )?this\b|"
    r"(?:hat|gefällt) (?:dir|ihnen) (?:unser|dieser|der)\b.{0,40}\?|lust auf mehr\?|"
    # mail sign-up promotions opening a Chinese page ("立刻注册新浪免费邮箱，激活1G空间", sina)
    r"(?:立刻|立即|马上|免费)注册"
    r")|\b(?:"
    r"subscribe (?:now )?(?:to|for) (?:our|the)\b|already a subscriber\b|"
    r"follow (?:us|the [\w ]{1,30}) on (?:twitter|facebook|instagram|telegram|whatsapp|linkedin)\b|"
    r"download (?:the|our) [\w ]{0,30}\bapps?\b|never miss\b.{0,40}\b(?:sign|subscri)|"
    r"sign up (?:for|to) (?:our|the) [\w ]{0,20}newsletter\b|"
    r"canal de telegram\b|únete a nuestr|suscríbete\b|síguenos en\b|"
    r"(?:must|need to) be logged in to\b|(?:eingeloggt|angemeldet) sein,? um\b|"
    r"sie sind (?:aktuell |derzeit )?nicht (?:eingeloggt|angemeldet)\b|"
    r"(?:hazte|hágase) (?:miembro|socio)\b|nuestro canal de youtube\b|"
    r"besuchen sie unseren [\w-]{0,20}shop\b|zapraszamy (?:też )?do subskrypcji\b|"
    r"we want to hear what you think\b|(?:straight|directly) to your (?:phone|inbox)\b|"
    r"submit your letter to the editor\b"
    # Chinese has no word boundaries: anywhere in the line
    r")|免费邮箱",
    re.IGNORECASE,
)
PROMO_MAX_CHARS = 200

# Affiliate and advertising disclosures ("We may earn a commission when you buy through links on
# this page", "This post contains affiliate links", "As an Amazon Associate I earn from qualifying
# purchases"): a notice set at an edge of the article, not its text (wcxb-dev: 35 lines on 30 pages
# outside the truth, 13 inside it; trafilatura set "without" snippets). A paragraph longer than
# DISCLOSURE_MAX_CHARS that says so is the article's own prose about affiliate marketing.
DISCLOSURE_RE = re.compile(
    r"\b(?:post|page|article|site|website|blog|podcast|video|content|list|guide|review|story|newsletter)"
    r" (?:and [\w ]{1,30})?(?:may |might )?(?:contains?|includes?|uses?|has) (?:some )?affiliate links\b|"
    r"\baffiliate (?:disclosure|disclaimer)\b|\bcommissionable links?\b|\bas an amazon associate\b|"
    r"\b(?:we|i|may|might)(?:'d)? (?:earn|receive|make|get) (?:a |an )?(?:small |tiny )?(?:affiliate )?"
    r"(?:commissions?|compensation)\b",
    re.IGNORECASE,
)
DISCLOSURE_MAX_CHARS = 400
# A word every DISCLOSURE_RE match holds: a line without one skips that regex's word-start
# alternatives (speed only; half its cost on crawl-bench lines). Keep it in step with DISCLOSURE_RE.
DISCLOSURE_HINT_RE = re.compile(r"affiliate|commission|associate|compensation", re.IGNORECASE)

# Pager lines ("第1页/共1页 << 上一页 | 下一页 >>", "Previous page | Next page").
PAGER_RE = re.compile(
    r"第\s*\d+\s*页|上一页|下一页|上一篇|下一篇|\b(?:next|previous|prev)\s+(?:page|post|article)\b", re.I
)
PAGER_MAX_CHARS = 80

# Lines no longer than this are tested against the furniture patterns below
# (datelines, image credits, teaser links); longer ones are prose.
FURNITURE_LINE_MAX_CHARS = 160

# Words that label a dateline, removed before counting what else a date line says:
# "Published on", "Updated", "Pubblicato il … Ultima modifica", "Aktualisiert am … um … Uhr",
# "Publié le … mis à jour", "Publicado el …", "opublikowano:", and times ("12:02", "3:15 pm").
DATELINE_WORDS_RE = re.compile(
    r"\b\d{1,2}[:.h]\d{2}(?::\d{2})?(?:\s*[ap]\.?m\.?)?|"
    r"\b(?:published|updated|posted|last|modified|created|on|at|am|um|uhr|stand|aktualisiert|"
    r"veröffentlicht|veröffentlichung|erschienen|zuletzt|geändert|publiziert|pubblicato|il|ultima|modifica|aggiornato|alle|ore|"
    r"publié|publie|le|mis|à|jour|publicado|actualizado|el|a|las|atualizado|em|às|gepubliceerd|"
    r"bijgewerkt|op|opublikowano|zaktualizowano|data|date|datum|fecha|cet|cest|gmt|utc|est|edt|pst|pdt)\b",
    re.IGNORECASE,
)
# A dateline that says the page was revised ("Updated July 9, 2025", "Ultima modifica …",
# "Mis à jour le …") belongs to an article's furniture (author and reviewer cards repeat
# it); it never stamps a forum post, so it does not count towards FORUM_MIN_DATELINES.
REVISION_LINE_RE = re.compile(
    r"^\W*(?:last\s+)?(?:updated|modified|revised|reviewed|aktualisiert|zuletzt|geändert|mis à jour|"
    r"actualizado|atualizado|aggiornato|ultima modifica|bijgewerkt|zaktualizowano|更新)",
    re.IGNORECASE,
)

# A word (two letters or more, no digits), as the dateline test counts them.
WORD_RE = re.compile(r"[^\W\d_]{2,}")
# A line with a date and at most this many other words (an author's name) is a dateline.
DATELINE_MAX_OTHER_WORDS = 3

# === step 1, cleaning (clean.py) =========================================================================

# Elements that never hold article text; removed with their subtree before scoring.
# (form is handled apart: ASP.NET pages wrap the whole body in one <form>.)
DROP_TAGS = frozenset(
    {
        "script",
        "style",
        "iframe",
        "svg",
        "template",
        "input",
        "textarea",
        "embed",
        "canvas",
        "link",
        "meta",
        "head",
        "audio",
        "video",
    }
)

# Widgets dropped with their subtree too, unless broken markup made one swallow
# the page: an unclosed <button> in a site header holds the whole article on
# some CMS themes (wcxb dev_0044), so one holding SWALLOWED_TAGS and prose stays.
WIDGET_TAGS = frozenset({"button", "select", "object", "dialog", "menu", "map"})
SWALLOWED_TAGS = frozenset({"p", "article", "main", "section", "h1", "h2"})

# Page furniture by tag. Broken markup sometimes leaves a <header> or <nav>
# unclosed so that it swallows the article: one that holds more than
# LANDMARK_MAX_SHARE of the page's text is kept.
# <noscript> is here too: Discourse forums serve the whole thread inside it.
LANDMARK_TAGS = frozenset({"nav", "aside", "footer", "header", "form", "noscript"})
LANDMARK_MAX_SHARE = 0.4

# A <form> holding less visible text than this is a search box, login or
# newsletter form; a bigger one is a page-wide ASP.NET wrapper and is kept.
FORM_MAX_CHARS = 400

# <header> is dropped only outside <article>/<main>: a site banner there,
# while an article's own header may hold the standfirst.
HEADER_KEEP_INSIDE = frozenset({"article", "main"})

# Whole class/id tokens that mark boilerplate (tokens are split on space, "-"
# and "_", lower-cased): exact match so "ad" does not hit "head" or "load".
BOILERPLATE_TOKENS = frozenset(
    {
        "nav",
        "navbar",
        "menu",
        "menubar",
        "submenu",
        "breadcrumb",
        "breadcrumbs",
        "crumbs",
        "share",
        "sharing",
        "shares",
        "sharebar",
        "social",
        "socials",
        "related",
        "relatedposts",
        "popular",
        "mostpopular",
        "hot",
        "hotnews",
        "recommend",
        "recommended",
        "recommendations",
        "comment",
        "comments",
        "commentlist",
        "footer",
        "foot",
        "copyright",
        "sidebar",
        "ad",
        "ads",
        "adsbygoogle",
        "advert",
        "advertisement",
        "adv",
        "sponsor",
        "sponsored",
        "partner",
        "partners",
        "subscribe",
        "subscription",
        "newsletter",
        "signup",
        "cookie",
        "cookies",
        "consent",
        "gdpr",
        "tags",
        "tagcloud",
        "promo",
        "banner",
        "skip",
        "masthead",
        "toolbar",
        "pagination",
        "pager",
        "disqus",
        "outbrain",
        "taboola",
        "modal",
        "popup",
        "byline",
    }
)

# Substrings of a class/id string that mark boilerplate whatever the
# tokenisation ("relatedArticles", "socialShare", "mainnav", "cookiebar").
BOILERPLATE_SUBSTRINGS = (
    "breadcrumb",
    "sidebar",
    "newsletter",
    "cookie",
    "copyright",
    "advert",
    "sponsor",
    "social",
    "related",
    "comments",
    "comment-",
    "sharing",
    "share-",
    "sharebar",
    "mainnav",
    "topnav",
    "subnav",
    "navbar",
    "navigation",
    "footer",
    "mostpopular",
    "most-popular",
    "recommend",
    "subscribe",
    "outbrain",
    "taboola",
    # author boxes after the article: a bio and a portrait, not the article
    # (trafilatura set: author-box, author-bio, author-description, post-author__bio, abh_)
    "author-box",
    "authorbox",
    "author-bio",
    "authorbio",
    "author-info",
    "author-description",
    "about-author",
    "aboutauthor",
    "abh_",
    "post-author",
    # legal fine print and popup makers ("aawp-disclaimer", "pum-overlay popmake")
    "disclaimer",
    "popmake",
    # comment forms and print buttons
    "commentform",
    "comment-form",
    "print-button",
    # newsletter and sign-up boxes by the names their plugins and themes give them
    # ("optin-form", "mc4wp-form", "klaviyo-form", "email-capture", "inline-sign-up",
    # "newsletterSignup"), the WordPress.com likes and sharing widget ("sharedaddy",
    # "jetpack-likes-widget-wrapper") and paywall notices ("restricted-content-breaker"):
    # wcxb-dev holds 30,000 characters in such blocks outside its truth, 330 inside
    "optin",
    "opt-in",
    "mc4wp",
    "mailchimp",
    "klaviyo",
    "email-capture",
    "emailcapture",
    "signup",
    "sign-up",
    "lead-gen",
    "sharedaddy",
    "likes-widget",
    "restricted-content",
)

# Any BOILERPLATE_SUBSTRINGS entry, as one search.
BOILERPLATE_SUBSTRING_RE = re.compile("|".join(map(re.escape, BOILERPLATE_SUBSTRINGS)))

# A block matched by class/id is kept when it holds more than this share of
# the page's text and its class/id also reads as content ("content has-sidebar"),
# or more than BOILERPLATE_KEEP_ANY_SHARE whatever its name: a real sidebar or
# share bar never holds most of a page.
BOILERPLATE_KEEP_CONTENT_SHARE = 0.25
BOILERPLATE_KEEP_ANY_SHARE = 0.5
# ... or when it holds more than this share of the page's prose paragraphs:
# a layout wrapper named after its sidebar ("with-sidebar-layout",
# "inline-and-sidebar-container") or a "newsletter-post" article.
BOILERPLATE_KEEP_PROSE_SHARE = 0.5
# Comment blocks are not rescued by their prose share (an article's comments
# often outweigh it), except on a forum page: when removing the boilerplate
# blocks would leave less than this share of a page's prose (and the page
# has more than FORUM_MIN_PROSE weighted characters of it), the blocks that
# hold prose are the thread and stay.
# Cookie and consent dialogs and popups are never rescued either: their
# legal prose often outweighs a short post (wcxb dev_4449).
NEVER_CONTENT_NAME_RE = re.compile(
    r"comment|disqus|respond|repl(?:y|ies)|cookie|consent|gdpr|modal|popup|overlay|privacy", re.IGNORECASE
)
FORUM_MAX_OTHER_PROSE_SHARE = 0.2
# Cookie consent dialogs are removed whatever share of the page they hold (a
# preference centre's legal text outweighs a short forum thread, wcxb
# dev_0543), unless they wrap the headline or an <article>/<main>.
CONSENT_NAME_RE = re.compile(
    r"cookie|consent|gdpr|dsgvo|rgpd|onetrust|cookiebot|usercentrics|didomi|popup", re.IGNORECASE
)
FORUM_MIN_PROSE = 300
# ... and a page whose other prose passes this many weighted characters is an
# article with a long comment thread, not a thread (trafilatura set oekonomenstimme).
FORUM_MAX_OTHER_PROSE = 3000

# Inline styles that hide an element: invisible text is not article text.
HIDDEN_STYLE_RE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)

# Hidden blocks (hidden attribute, display:none, visibility:hidden) are removed,
# whatever they hold, when more than this share of the page's prose is visible:
# the reader sees that text, not the hidden one (readability visibility-hidden).
# A page with (nearly) all its prose hidden is one a script reveals: its largest
# hidden block is kept (wcxb dev_2920).
VISIBLE_PROSE_SHARE = 0.2
# Text set at percent coordinates ("top:4.9%;left:96.6%") over an image is a
# chart's or a map's label ("$915", "billion", "'17"), never prose: the
# ai2html graphics of news sites (readability nytimes-4).
POSITIONED_LABEL_RE = re.compile(
    r"(?:^|;)\s*top\s*:\s*-?[\d.]+%.*(?:^|;)\s*(?:left|right)\s*:\s*-?[\d.]+%"
    r"|(?:^|;)\s*(?:left|right)\s*:\s*-?[\d.]+%.*(?:^|;)\s*top\s*:\s*-?[\d.]+%",
    re.IGNORECASE,
)
CHART_LABEL_MAX_CHARS = 200

# Inline elements: one with words on both sides in its block is part of a
# sentence, never removed for a boilerplate-like name (a glossary "popup" link).
INLINE_TAGS = frozenset(
    {"a", "span", "em", "strong", "b", "i", "u", "abbr", "cite", "dfn", "mark", "q", "small", "font"}
)

# A word character beside an inline element: it sits in running text.
RUNNING_TEXT_WORD_RE = re.compile(r"\w")

# An id is a heading's slug (a topic, not a widget's name) when it has at least this many
# word tokens, all in the heading (readability mercurial).
HEADING_ANCHOR_MIN_TOKENS = 2

# Image credits marked up as their own element: whole class/id tokens (split on
# space, "-", "_") or microdata naming the photographer or rights holder
# ("img-author", "media__caption--source", "credits-credit-text",
# itemprop="creator"). Readability's and wcxb's truths keep a figure's caption
# but not its credit (nytimes "Credit…" spans); the trafilatura set drops both.
# Credits anywhere: CREDIT_TOKENS; inside a <figure> or a caption, also
# FIGURE_CREDIT_TOKENS ("source" and "author" name the image's there).
CREDIT_TOKENS = frozenset({"credit", "credits", "copyright", "photographer", "photocredit", "bildnachweis"})
FIGURE_CREDIT_TOKENS = frozenset({"source", "author", "byline", "attribution", "rights"})
CREDIT_ITEMPROPS = frozenset({"creator", "copyrightHolder", "copyrightNotice", "creditText"})
# A credit element is a name or two; a longer one is a caption or a licence text.
CREDIT_MAX_CHARS = 120

# Any credit token, as a substring (a superset of the token test in clean.drop_credits).
CREDIT_HINT_RE = re.compile("|".join(sorted(CREDIT_TOKENS | FIGURE_CREDIT_TOKENS)))

# === step 3, scoring and extent (score.py, extent.py) ====================================================

# A paragraph needs this many (CJK-weighted) characters to score at all
# (readability uses 25 Latin characters).
MIN_PARAGRAPH_CHARS = 25

# Containers whose own text is a paragraph: the score goes to their parent.
INLINE_PARAGRAPH_TAGS = frozenset(
    {"p", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "blockquote"}
)
# Readability's base scores for a candidate container by tag.
TAG_BASE_SCORE = {
    "div": 5.0,
    "article": 5.0,
    "section": 3.0,
    "main": 5.0,
    "td": 3.0,
    "pre": 3.0,
    "blockquote": 3.0,
    "ol": -3.0,
    "ul": -3.0,
    "dl": -3.0,
    "li": -3.0,
    "form": -3.0,
    "address": -3.0,
    "th": -5.0,
    "h1": -5.0,
    "h2": -5.0,
    "h3": -5.0,
}
# Ancestor score dividers: parent, grandparent, then readability's level * 3.
ANCESTOR_DIVIDERS = (1.0, 2.0, 6.0, 9.0, 12.0)

# Readability's length bonus: one point per LENGTH_BONUS_CHARS weighted characters of a
# paragraph, at most LENGTH_BONUS_MAX.
LENGTH_BONUS_CHARS = 100.0
LENGTH_BONUS_MAX = 3.0

# Sibling merging: a sibling of the winner joins it when its score reaches
# this share of the winner's (readability uses 0.2, floor 10).
SIBLING_SCORE_SHARE = 0.2
SIBLING_MIN_SCORE = 10.0
# Siblings never merged into the text: complementary and navigation landmarks
# (an <aside>, a sidebar, a <nav>, the page's <footer>) hold their own prose.
SIBLING_NEVER_TAGS = frozenset({"aside", "nav", "footer", "header"})
SIBLING_NEVER_TOKENS = frozenset({"header", "side", "aside", "infobox"})
SIBLING_NEVER_ROLES = frozenset({"complementary", "navigation", "contentinfo", "banner", "search"})

# A sibling with the winner's class gets this share of the winner's score as a bonus (readability).
SIBLING_CLASS_BONUS_SHARE = 0.2

# A <p> sibling joins as prose when it holds more than SIBLING_PROSE_CHARS weighted
# characters with less link text than SIBLING_PROSE_MAX_LINK_DENSITY, or fewer without
# links ending a sentence (SIBLING_SENTENCE_END_RE; readability's rule).
SIBLING_PROSE_CHARS = 80
SIBLING_PROSE_MAX_LINK_DENSITY = 0.25
SIBLING_SENTENCE_END_RE = re.compile(r"[.。！？!?]$")

# A best block inside a photo gallery (class/id) gives way to the best block
# outside it among the next GALLERY_MAX_CANDIDATES, when that one scores at least
# GALLERY_MIN_SCORE_SHARE of it: fifty captions outscore the article they
# illustrate (readability bug-1255978).
GALLERY_NAME_RE = re.compile(r"gallery|slideshow|carousel|lightbox", re.IGNORECASE)
GALLERY_MAX_CANDIDATES = 20
GALLERY_MIN_SCORE_SHARE = 0.3

# A sibling with the winner's tag and this share of its class tokens is another
# part of the same component ("row layout margin-v--small" beside "row layout
# margin-v--medium"): it is judged by the best block inside it, however deep
# (quanta-1 splits its body over three "acf-content" blocks). At 0.5,
# "content-element el_a" took its "el_b" teaser list (wcxb dev_0392).
SAME_COMPONENT_CLASS_SHARE = 0.6

# Readability: when SHARED_ANCESTOR_MIN_OTHERS of the next SHARED_ANCESTOR_CANDIDATES
# candidates score at least SHARED_ANCESTOR_MIN_SCORE_SHARE of the top one and sit under
# one ancestor with it, the text is split over them and the ancestor is the block.
SHARED_ANCESTOR_CANDIDATES = 4
SHARED_ANCESTOR_MIN_OTHERS = 2
SHARED_ANCESTOR_MIN_SCORE_SHARE = 0.75

# The best block is not traded for an ancestor holding more than CLIMB_MAX_GROWTH
# times its text and scoring under CLIMB_MIN_SCORE_SHARE of it: a weaker wrapper
# around the article plus the page's teasers and widgets (readability yahoo-3).
CLIMB_MAX_GROWTH = 3.0
# Copies of the top block's component (same tag and class: a landing page's
# cards) scoring at least this share of it make their common ancestor the block.
REPEATED_MIN_SCORE_SHARE = 0.5
CLIMB_MIN_SCORE_SHARE = 0.6

# ... and at least this many such copies besides the top block.
REPEATED_MIN_COPIES = 2

# Readability: moving up stops at a scored parent under the best score divided by this.
CLIMB_STOP_DIVISOR = 3.0

# When the chosen block holds less than this share of the page's prose (paragraphs
# of PARTIAL_PROSE_CHARS or more, few links), the page is its main content: the
# whole body left after boilerplate removal is taken. Articles need a smaller
# share (comments and teasers after liberation-1 and yahoo-2 hold 60% of the
# prose); listings and service pages are many blocks of equal weight. wcxb-dev
# all 0.808 -> 0.83, with trafilatura snippets and readability pages no worse.
PARTIAL_BLOCK_SHARE_ARTICLE = 0.3
PARTIAL_BLOCK_SHARE_OTHER = 0.7
PARTIAL_PROSE_CHARS = 80
# Prose in complementary blocks (<aside>, role=complementary, a class/id word
# naming a sidebar) does not count in that share: a blog's text widgets and feed
# summaries outweigh a short post (trafilatura set gnaur, kulinariaathome).
# A word naming a layout with a sidebar, or the main column beside one, is not one.
# The best block inside one gives way to the best outside all of them when that
# one scores at least COMPLEMENTARY_MIN_SCORE_SHARE of it: a long text widget
# outscores a short post.
COMPLEMENTARY_MIN_SCORE_SHARE = 0.3
# On an article, nor does the prose of its discussion (a comment thread outweighs
# the text it follows: trafilatura set taz, mondediplo's SPIP "forum").
DISCUSSION_NAME_RE = re.compile(r"comment|forum|disqus|respond|repl(?:y|ies)|discussion", re.IGNORECASE)
SIDEBAR_NAME_RE = re.compile(r"sidebar", re.IGNORECASE)
SIDEBAR_LAYOUT_NAME_RE = re.compile(
    r"with|has|no-|one-|two-|layout|lay-|wrap|container|main|content|page|body|toggle|trigger", re.IGNORECASE
)

# A shop's customer reviews (class/id naming "reviews" or a "customer review") are
# prose that outscores the product's own description: the best block inside them
# gives way like a sidebar's (wcxb product pages: Amazon "customer_review-…",
# IKEA "pipf-seo-reviews", REI "product-reviews-accordion", Judge.me "gm-reviews-section").
REVIEW_SECTION_NAME_RE = re.compile(r"reviews|customer[-_]review", re.IGNORECASE)

# The lede: prose lines between the headline and the chosen block are taken when
# the headline is at most this many paragraphs before it (a standfirst in "p.lead"
# or "h2.article-deck" beside the body block: trafilatura set, 60+ pages).
LEAD_MAX_GAP_PARAGRAPHS = 8
LEAD_MIN_CHARS = 30

# === step 4, pruning (prune.py) ==========================================================================

# Blocks inside the main content that may be removed as link lists.
CLEANABLE_TAGS = frozenset({"div", "section", "ul", "ol", "dl", "table", "header", "figure", "span"})

# A block with at least this many clause punctuation marks is prose, never a link list.
LINK_BLOCK_PROSE_PUNCTUATION = 10

# Separators of inline link lists ("A | B | C", "A · B · C").
LINK_LIST_SEPARATOR_RE = re.compile(r"\s[|·•/]\s|｜|丨")

# A line with at least this many link-list separators and mostly link text is a link list.
LINK_LIST_MIN_SEPARATORS = 3

# Lines after an article's last prose paragraph that are (almost) all link
# text are teasers to other pages ("Hier geht es zur …", a related headline);
# list items stay (reference lists, tables of links that are the content).
TRAILING_LINK_DENSITY = 0.9

CARD_HEADING_TAGS = ("h2", "h3", "h4", "h5", "h6")

# Teaser cards inside the main block (related-article grids, "more from" boxes): a
# heading whose text is at least CARD_HEADING_LINK_SHARE link text, in a block of at
# most CARD_MAX_CHARS (a title and a one-line summary) with an image or a sibling
# card; a group of them after the block's last prose paragraph, holding at most
# CARD_GROUP_MAX_SHARE of the block's text, is dropped (trafilatura set "without"
# snippets: larepublica, ndr, novalanalove; wcxb articles leave them out too).
CARD_HEADING_LINK_SHARE = 0.8
CARD_MAX_CHARS = 500
CARD_GROUP_MAX_SHARE = 0.5

# A lone teaser card counts only with an image; from this many cards on, without.
CARD_GROUP_MIN_CARDS = 2

# Containers whose short lines are data, never datelines or credits.
LIST_CELL_TAGS = frozenset({"li", "td", "th", "dd", "dt", "tr"})

# Image credits and captions' credit tails (outside <figure>: Readability keeps
# figure captions with their credits, and so do we): "Foto: Sascha Klahn", "Bild: Jahr Media",
# "Photograph by …", "(Credit: Clayton Aldern / Grist)", "(crédito: …)", "… Getty Images",
# "(Quelle: Hume/Unsplash/DJV)", "(mlharing / iStock.com)" (trafilatura set "without" snippets).
CREDIT_RE = re.compile(
    r"^\(?(?:foto|fotos|bild|bilder|titelbild|beitragsbild|symbolbild|abbildung|grafik|photo|photos|"
    r"photograph|image|images|picture|credit|credits|crédito|crédit|créditos|fuente|quelle|zdjęcie|"
    r"fot\.)(?:\s+(?:by|von|de|di))?\s*[:©]|"
    r"^(?:photograph|photo|picture|image)\s+by\b|"
    r"\((?:foto|bild|photo|credit|crédito|quelle|fuente|source|symbolbild)\s*:[^)]*\)\s*$|"
    r"(?:getty images|istock(?:photo)?(?:\.com)?|shutterstock|unsplash|picture[- ]alliance|"
    r"imago(?: images)?|dpa|afp|reuters|associated press)\s*\)?\s*$",
    re.IGNORECASE,
)

# Teaser links set inside an article: "Lea: …", "MIRA: …", "LE PUEDE INTERESAR: …",
# "Read more: …", "Czytaj też: …", "Lesen Sie auch: …", ">> Headline <<".
TEASER_PREFIX_RE = re.compile(
    r"^(?:>>|►|▶)|^(?:lea|lee|mira|mire|ver|vea|lea más|lee más|lea además|vea también|ver también|"
    r"mira también|puedes ver|le puede interesar|te puede interesar|"
    r"también (?:te puede interesar|lee)|lea también|read more|read also|also read|see also|related|"
    r"more on this|recommended|czytaj (?:też|także|również|więcej)|zobacz (?:też|także)|dowiedz się więcej|"
    r"lesen sie (?:auch|hier|mehr)|auch lesen|mehr dazu|mehr zum thema|siehe auch|"
    r"auch interessant|weiterlesen|"
    r"leggi anche|vedi anche|à lire aussi|lire aussi|voir aussi|leia (?:também|mais)|veja também|"
    r"lees ook|zie ook)\s*[:：]",
    re.IGNORECASE,
)

# The lead image's container, named so ("td-post-featured-image",
# "entry-featured-media", "wp-post-thumbnail", "media-primary", "hero-image",
# "article-lead-image", "aufmacher"): its caption is dropped wherever it sits,
# like the captions before the first prose paragraph.
LEAD_FIGURE_NAME_RE = re.compile(
    r"featured|post-?thumb|hero|media-primary|lead-?(?:image|media|photo|figure)|top-?image|aufmacher",
    re.IGNORECASE,
)

# Headings of related-article and more-reading boxes; the short teaser lines
# under one are dropped with it until prose starts again.
RELATED_HEADING_RE = re.compile(
    r"^(?:related(?: articles| posts| stories| content| news)?|more (?:stories|articles|news|from \w+)|"
    r"you (?:may|might) also like|read (?:more|next|also)|also read|see also|most (?:read|popular)|"
    r"recommended(?: for you)?|further reading|latest (?:news|articles|posts)|"
    r"mehr (?:zum thema|themen|dazu|artikel|news)|auch interessant|"
    r"das könnte (?:dich|sie) auch interessieren|"
    r"lesen sie auch(?: die(?:sen| folgenden) (?:artikel|beiträge?))?|"
    r"weitere (?:artikel|beiträge|themen|informationen|news)|zum weiterlesen|schon gelesen|"
    r"das (?:thema |könnte )?(?:könnte )?(?:dich|sie) auch interessieren|verwandte beiträge|"
    r"vorschau auf den nächsten artikel|mehr zum thema(?: auf [\w.-]+)?|"
    r"neueste (?:artikel|beiträge)|aktuellste beiträge|ähnliche (?:artikel|beiträge)|verwandte artikel|"
    r"notas relacionadas|noticias relacionadas|te puede interesar|le puede interesar|más noticias|"
    r"articles? (?:liés|similaires)|à lire aussi|sur le même sujet|leggi anche|articoli correlati|"
    r"czytaj (?:też|także|również)|zobacz (?:też|także)|polecane|"
    r"相关(?:新闻|阅读|文章|推荐|报道|链接|专题)|推荐阅读|热门(?:推荐|文章|新闻)|延伸阅读)\s*[:：?!.]?$",
    re.IGNORECASE,
)
# A teaser line under such a heading is shorter than this and does not end a sentence.
TEASER_MAX_CHARS = 150

# More dateline-like lines than this in one text are data (listing items with
# dates, forum posts), and stay.
DATELINE_MAX_LINES = 2

# The byline / dateline line under a headline: "Source:", "来源：", "By …", "作者：".
BYLINE_RE = re.compile(
    r"(?:^|[·|｜丨/]\s*|\s\s)(?:(?:source|sources|by|author|posted|published|updated|written by)\b|"
    r"来源|作者|发布时间|发布日期|时间|日期|编辑|责编|记者|浏览|阅读|点击|稿源)\s*[:：]?",
    re.IGNORECASE,
)
# Date-like text in a byline line: 2021-06-29, 2021/6/29, 2021年6月29日, June 29, 2021, 29 June 2021.
DATE_RE = re.compile(
    r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}|"
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2},?\s+\d{4}|"
    r"\b\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?,?\s+\d{4}",
    re.IGNORECASE,
)
# A byline line is short; longer text under the headline is the lede.
BYLINE_MAX_CHARS = 160
# How many leading paragraphs may be headline, byline or dateline furniture.
LEAD_SCAN_PARAGRAPHS = 5

# Opening lines: one with a date shorter than LEAD_DATELINE_MAX_CHARS is a dateline; a byline
# shorter than LEAD_BYLINE_SHORT_CHARS outside a <p>, not ending a sentence, is a byline.
LEAD_DATELINE_MAX_CHARS = 60
LEAD_BYLINE_SHORT_CHARS = 80

# "延伸阅读：headline", "相关报道：headline": a related-reading box whose first teaser shares
# the heading's line; dropped with the teaser lines under it, as under RELATED_HEADING_RE
# (cwced-zh-dev: yahoo, sina).
RELATED_LEAD_RE = re.compile(r"^(?:延伸阅读|相关(?:新闻|阅读|文章|报道|链接)|推荐阅读)\s*[:：]\s*\S")

# A Chinese reporters' line, set apart from the text: "本报记者 王燕平 方云凤",
# "新华网黑龙江频道 记者 伊琳 李清芬", "新京报记者 彭冲 山东冠县报道" (cwced-zh-dev).
# The names follow a space, so a subheading such as "记者调查" is not one.
CJK_BYLINE_RE = re.compile(
    r"^[\u4e00-\u9fff]{0,12}\s?(?:本报|特约)?(?:记者|通讯员|实习生)"
    r"(?:\s+[\u4e00-\u9fff·]{2,4}){1,6}(?:\s+[\u4e00-\u9fff]{2,10}报道)?$"
)

# A legal notice closing a Chinese page ("反侵权公告：", "雅虎中国著作权声明", "免责声明"):
# its heading and everything after it go when what follows holds at most
# LEGAL_TAIL_MAX_SHARE of the text (a notice, not an article about the law).
# Not "Disclaimer": on English pages (wcxb-dev dev_0482, dev_4001) it heads the
# author's own closing section, which the truth keeps.
LEGAL_HEADING_RE = re.compile(
    r"^.{0,12}(?:反侵权公告|侵权(?:声明|公告)|著作权声明|版权声明|免责声明|法律声明|传输内容声明)\s*[:：]?$"
)
LEGAL_TAIL_MAX_SHARE = 0.3

# === learned paragraph scorer (features.py, model/) =====================================================

# Class/id tokens and words are hashed into this many buckets each: enough for the
# common names (content, related, share, newsletter, caption) to rarely collide,
# small enough that the model file stays a few kilobytes.
MODEL_NAME_BUCKETS = 64
MODEL_WORD_BUCKETS = 128
# How many ancestors above a paragraph's container lend their class/id tokens
# (a sharing box is often a div around a ul around the li holding the line).
MODEL_ANCESTOR_LEVELS = 3
# Every word of a short line is a feature ("Like Loading...", "Sign up for our newsletter");
# of a longer paragraph only its first words, truncated, so prose does not flood the buckets.
MODEL_SHORT_WORDS = 8
MODEL_LEAD_WORDS = 3
MODEL_WORD_CHARS = 12
# Punctuation marks per 100 characters, capped: a list of numbers is not more prose than prose.
MODEL_PUNCTUATION_CAP = 10.0

# === page kind (kind.py) =================================================================================

# A thread: this many <time> elements left after boilerplate removal, or date
# lines in the main block, and fewer teaser links than a listing has.
FORUM_MIN_POSTS = 4
FORUM_MIN_DATELINES = 3
FORUM_MAX_TEASERS = 15
# A "long" paragraph in CJK-weighted characters, and how many in the main
# block make a dated (or article-marked) page an article.
LONG_PARAGRAPH_CHARS = 150
ARTICLE_MIN_LONG_PARAGRAPHS = 2
# ... a long paragraph has less link text than this share.
LONG_PARAGRAPH_MAX_LINK_DENSITY = 0.2
# A listing's teaser line: more link text than LISTING_TEASER_MIN_LINK_DENSITY, between
# LISTING_TEASER_MIN_CHARS and LISTING_TEASER_MAX_CHARS characters (a linked headline).
LISTING_TEASER_MIN_LINK_DENSITY = 0.8
LISTING_TEASER_MIN_CHARS = 15
LISTING_TEASER_MAX_CHARS = 150
# Link density of the whole page body above which, without a long
# paragraph run, the page is a listing.
LISTING_LINK_DENSITY = 0.45
# Teaser blocks (a short item around one link) that make a listing.
LISTING_MIN_TEASERS = 8

# === schema.org types (kind.py, metadata.py) =============================================================

# Page kind (kind.py): JSON-LD types that name the kind of page outright.
ARTICLE_LD_TYPES = frozenset(
    {
        "Article",
        "NewsArticle",
        "BlogPosting",
        "Report",
        "ScholarlyArticle",
        "TechArticle",
        "OpinionNewsArticle",
        "AnalysisNewsArticle",
        "ReportageNewsArticle",
        "LiveBlogPosting",
        "Recipe",
        "HowTo",
    }
)
FORUM_LD_TYPES = frozenset({"DiscussionForumPosting", "QAPage", "SocialMediaPosting"})
PRODUCT_LD_TYPES = frozenset({"Product", "Offer", "AggregateOffer", "IndividualProduct", "ProductGroup"})
LISTING_LD_TYPES = frozenset({"ItemList", "CollectionPage", "SearchResultsPage", "OfferCatalog"})
# Types whose headline, date and author describe the page's own work but that do not
# make the page an article for page_kind(): the metadata step reads these as well as
# the article and forum types (METADATA_LD_TYPES).
OTHER_WORK_LD_TYPES = frozenset(
    {
        "BackgroundNewsArticle",
        "ReviewNewsArticle",
        "AskPublicNewsArticle",
        "Review",
        "VideoObject",
        "PodcastEpisode",
    }
)
# JSON-LD types whose headline/date/author describe the article itself (metadata.py
# matches them lower-cased).
METADATA_LD_TYPES = frozenset(t.lower() for t in ARTICLE_LD_TYPES | FORUM_LD_TYPES | OTHER_WORK_LD_TYPES)


# === metadata step (metadata.py, titles.py, authors.py, dates.py) ========================================

# Elements whose text a reader never sees: a heading, a byline or a source line
# is read outside them.
HIDDEN_TAGS = frozenset(("script", "style", "noscript", "template"))

# A copyright mark or word anywhere in a line: the years on such a line are not the
# article's date (dates.py). Not COPYRIGHT_LINE_RE (the content steps' footer-line
# test): this one also matches a bare "(c)" and "&copy;" and none of the
# licence and registration lines; merging them changes which lines are skipped.
COPYRIGHT_MARK_RE = re.compile(r"©|&copy;|\(c\)|copyright|版权所有|all rights reserved", re.IGNORECASE)

# === titles (titles.py, title_features.py, model/title.json) =============================================

# Headings offered to the title chooser: the headline is among a page's first h1/h2 elements;
# later ones are teasers and widget titles.
TITLE_CANDIDATE_HEADINGS = 20
# Words of a page's chrome that old CMSs and forum scripts put in <title> instead of the headline
# (cwced-zh-dev beijingspring.com essays: <title>显示</title>): never a title. Not "Document":
# readability-testpages data-url-image is titled so, and Readability keeps it.
TITLE_UI_WORDS = frozenset(
    (
        *("显示", "打印", "关闭", "返回", "首页", "正文", "无标题文档", "无标题", "查看", "浏览", "详细内容"),
        *("print", "close", "untitled", "untitled document", "show", "view", "display", "index"),
        *("new page 1", "back"),
    )
)
# A start page's name: a better line replaces it when the page has one, but a page that is only a
# menu is named so (tests/fixtures/pages/nav-only-menu, issue 9: a listing titled "Home").
TITLE_START_PAGE_WORDS = frozenset(("home", "homepage", "首页", "startseite", "accueil", "inicio"))
# A headingless page's title is a short emphasised line (bold, big or centred) before the text
# (cwced-zh-dev beijingspring.com "犬儒病(上)": 6 characters); a longer one is a lead paragraph.
TITLE_EMPHASIS_MAX_CHARS = 60
# A run of text this long means the article has begun: an emphasised line after it is not the title.
TITLE_EMPHASIS_TEXT_CHARS = 80
# A label a forum script prints before a thread's subject in its heading
# (cwced-zh-dev bbs.zol.com.cn: "<h1>主题: 【2005年中国革命历史巨作】【太行山上】</h1>").
TITLE_LABEL_RE = re.compile(r"^(?:主题|标题|帖子主题|subject|topic|thread)\s*[:：]\s*", re.IGNORECASE)
