//! The Wikipedias `--project largest:N` names: every open Wikipedia language edition,
//! largest first, compiled in so a run names the same wikis offline and every shard of a
//! job agrees on them.
//!
//! Source: Meta-Wiki's [List of Wikipedias](https://meta.wikimedia.org/wiki/List_of_Wikipedias),
//! table "All Wikipedias ordered by number of articles", as copied on **2026-07-19** by a
//! weekly scrape of that table (GitHub `AnySoftKeyboard/janus`, commit 7e5b4ee,
//! `app/src/main/java/com/anysoftkeyboard/janus/app/util/SupportedLanguages.kt`): 347
//! wikis with their article counts, re-sorted here by articles (ties by code). The table
//! lists open Wikipedias only: closed ones, test wikis, the Incubator and the other
//! projects (Wiktionary, Commons, Wikidata, …) are not in it, so nothing had to be
//! dropped; Simple English (`simple`) is an edition of its own there and stays.
//!
//! The ranking is by **articles, not readers**: no ranking by pageviews newer than 2015
//! was at hand offline. So bot-written editions rank high (`ceb`, `arz`, `war`, `ce`
//! among the first 20) while some much-read ones rank lower (`pt` 18th, `id` 22nd,
//! `ko` 23rd, `hi` 63rd); name wikis explicitly when readership is what matters.
//! Refresh the list from the same table and update the date in this comment and in
//! the README.

/// The date of the snapshot, as the README and `--help` state it.
pub const SNAPSHOT: &str = "2026-07-19";

/// `(language code, articles)`: the subdomain of `<code>.wikipedia.org` and the article
/// count of the snapshot, largest first.
pub const WIKIPEDIAS: &[(&str, u32)] = &[
    ("en", 7_210_627),        // English
    ("ceb", 6_115_368),       // Cebuano
    ("de", 3_136_954),        // German
    ("fr", 2_770_056),        // French
    ("sv", 2_626_646),        // Swedish
    ("nl", 2_223_344),        // Dutch
    ("es", 2_126_116),        // Spanish
    ("ru", 2_110_183),        // Russian
    ("it", 1_978_111),        // Italian
    ("pl", 1_701_911),        // Polish
    ("arz", 1_632_444),       // Egyptian Arabic
    ("zh", 1_544_615),        // Chinese
    ("ja", 1_510_526),        // Japanese
    ("uk", 1_428_353),        // Ukrainian
    ("ar", 1_324_863),        // Arabic
    ("vi", 1_303_719),        // Vietnamese
    ("war", 1_266_913),       // Waray
    ("pt", 1_178_248),        // Portuguese
    ("fa", 1_080_126),        // Persian
    ("ce", 866_444),          // Chechen
    ("ca", 798_586),          // Catalan
    ("id", 785_766),          // Indonesian
    ("ko", 754_513),          // Korean
    ("tt", 708_941),          // Tatar
    ("sr", 706_523),          // Serbian
    ("tr", 690_776),          // Turkish
    ("no", 686_655),          // Norwegian
    ("ur", 652_856),          // Urdu
    ("fi", 621_642),          // Finnish
    ("cs", 595_433),          // Czech
    ("hu", 571_316),          // Hungarian
    ("ro", 545_935),          // Romanian
    ("eu", 491_991),          // Basque
    ("sh", 461_876),          // Serbo-Croatian
    ("ms", 439_953),          // Malay
    ("zh-min-nan", 434_318),  // Minnan
    ("he", 401_148),          // Hebrew
    ("eo", 387_944),          // Esperanto
    ("uz", 350_564),          // Uzbek
    ("hy", 329_997),          // Armenian
    ("da", 315_068),          // Danish
    ("bg", 311_226),          // Bulgarian
    ("cy", 284_342),          // Welsh
    ("simple", 283_389),      // Simple English
    ("el", 271_096),          // Greek
    ("be", 264_818),          // Belarusian
    ("et", 260_929),          // Estonian
    ("sk", 260_551),          // Slovak
    ("azb", 244_732),         // South Azerbaijani
    ("kk", 244_322),          // Kazakh
    ("hr", 234_266),          // Croatian
    ("gl", 232_518),          // Galician
    ("min", 229_755),         // Minangkabau
    ("lt", 226_339),          // Lithuanian
    ("az", 216_164),          // Azerbaijani
    ("sl", 198_376),          // Slovenian
    ("ka", 197_381),          // Georgian
    ("bn", 189_323),          // Bangla
    ("ta", 187_651),          // Tamil
    ("th", 185_289),          // Thai
    ("lld", 183_203),         // Ladin
    ("nn", 178_135),          // Norwegian Nynorsk
    ("hi", 170_524),          // Hindi
    ("mk", 163_185),          // Macedonian
    ("zh-yue", 151_102),      // Cantonese
    ("lv", 144_393),          // Latvian
    ("la", 141_979),          // Latin
    ("ast", 139_163),         // Asturian
    ("af", 129_844),          // Afrikaans
    ("te", 126_113),          // Telugu
    ("sw", 121_146),          // Swahili
    ("tg", 118_757),          // Tajik
    ("my", 111_271),          // Burmese
    ("ha", 106_357),          // Hausa
    ("sq", 106_063),          // Albanian
    ("mg", 103_488),          // Malagasy
    ("mr", 102_350),          // Marathi
    ("bs", 98_508),           // Bosnian
    ("ku", 91_910),           // Kurdish
    ("br", 91_466),           // Breton
    ("be-tarask", 91_194),    // Belarusian (Taraškievica orthography)
    ("oc", 90_811),           // Occitan
    ("ml", 88_228),           // Malayalam
    ("nds", 85_910),          // Low German
    ("an", 84_969),           // Aragonese
    ("ckb", 83_147),          // Central Kurdish
    ("lmo", 80_174),          // Lombard
    ("ky", 76_490),           // Kyrgyz
    ("pnb", 75_624),          // Western Punjabi
    ("jv", 75_325),           // Javanese
    ("new", 74_241),          // Newari
    ("ht", 72_024),           // Haitian Creole
    ("pms", 71_542),          // Piedmontese
    ("vec", 69_618),          // Venetian
    ("lb", 67_476),           // Luxembourgish
    ("mzn", 64_702),          // Mazanderani
    ("ba", 64_288),           // Bashkir
    ("ga", 64_194),           // Irish
    ("su", 62_940),           // Sundanese
    ("io", 62_840),           // Ido
    ("is", 61_147),           // Icelandic
    ("szl", 60_835),          // Silesian
    ("fy", 60_365),           // Western Frisian
    ("pa", 59_622),           // Punjabi
    ("cv", 59_094),           // Chuvash
    ("vo", 53_406),           // Volapük
    ("tl", 49_140),           // Tagalog
    ("glk", 48_313),          // Gilaki
    ("wuu", 48_284),          // Wu
    ("ig", 48_052),           // Igbo
    ("diq", 42_708),          // Dimli
    ("yo", 38_328),           // Yoruba
    ("ban", 38_297),          // Balinese
    ("kn", 35_219),           // Kannada
    ("sco", 34_222),          // Scots
    ("als", 31_732),          // Alemannic
    ("gu", 30_859),           // Gujarati
    ("ia", 30_476),           // Interlingua
    ("ne", 29_928),           // Nepali
    ("avk", 29_905),          // Kotava
    ("crh", 29_717),          // Crimean Tatar
    ("mn", 27_823),           // Mongolian
    ("bar", 27_230),          // Bavarian
    ("scn", 26_311),          // Sicilian
    ("si", 25_599),           // Sinhala
    ("bpy", 25_096),          // Bishnupriya
    ("as", 24_692),           // Assamese
    ("skr", 24_645),          // Saraiki
    ("qu", 24_545),           // Quechua
    ("nv", 22_667),           // Navajo
    ("xmf", 22_402),          // Mingrelian
    ("bcl", 22_349),          // Central Bikol
    ("sd", 22_020),           // Sindhi
    ("os", 21_756),           // Ossetic
    ("ps", 21_325),           // Pashto
    ("frr", 21_281),          // Northern Frisian
    ("or", 20_963),           // Odia
    ("ff", 20_604),           // Fula
    ("shn", 19_640),          // Shan
    ("tum", 19_247),          // Tumbuka
    ("ary", 19_188),          // Moroccan Arabic
    ("sah", 18_211),          // Yakut
    ("bat-smg", 17_275),      // Samogitian
    ("cdo", 16_725),          // Mindong
    ("gd", 16_057),           // Scottish Gaelic
    ("bug", 15_959),          // Buginese
    ("yi", 15_757),           // Yiddish
    ("am", 15_700),           // Amharic
    ("sat", 15_581),          // Santali
    ("ilo", 15_527),          // Iloko
    ("kaa", 15_454),          // Kara-Kalpak
    ("li", 15_213),           // Limburgish
    ("gor", 15_106),          // Gorontalo
    ("nap", 14_967),          // Neapolitan
    ("dag", 14_472),          // Dagbani
    ("mai", 14_354),          // Maithili
    ("hsb", 14_269),          // Upper Sorbian
    ("fo", 14_219),           // Faroese
    ("eml", 14_181),          // Emiliano-Romagnolo
    ("zh-classical", 14_096), // Literary Chinese
    ("hyw", 13_992),          // Western Armenian
    ("map-bms", 13_975),      // Banyumasan
    ("ie", 13_713),           // Interlingue
    ("ace", 13_073),          // Acehnese
    ("wa", 12_988),           // Walloon
    ("sa", 12_518),           // Sanskrit
    ("zu", 12_423),           // Zulu
    ("hif", 12_387),          // Fiji Hindi
    ("so", 12_271),           // Somali
    ("zgh", 12_241),          // Standard Moroccan Tamazight
    ("bjn", 12_202),          // Banjar
    ("km", 12_153),           // Khmer
    ("sn", 11_716),           // Shona
    ("lij", 11_571),          // Ligurian
    ("mhr", 11_325),          // Eastern Mari
    ("ks", 11_166),           // Kashmiri
    ("shi", 10_893),          // Tachelhit
    ("mni", 10_547),          // Manipuri
    ("hak", 10_448),          // Hakka Chinese
    ("mrj", 10_430),          // Western Mari
    ("rue", 10_276),          // Rusyn
    ("pam", 10_221),          // Pampanga
    ("tly", 10_158),          // Talysh
    ("rw", 9_838),            // Kinyarwanda
    ("ug", 9_723),            // Uyghur
    ("roa-tara", 9_508),      // Tarantino
    ("co", 9_244),            // Corsican
    ("bh", 9_128),            // Bhojpuri
    ("nso", 8_947),           // Northern Sotho
    ("vls", 8_357),           // West Flemish
    ("nds-nl", 8_106),        // Low Saxon
    ("bo", 8_071),            // Tibetan
    ("mi", 8_053),            // Māori
    ("se", 7_907),            // Northern Sami
    ("mt", 7_886),            // Maltese
    ("myv", 7_873),           // Erzya
    ("sc", 7_825),            // Sardinian
    ("mdf", 7_629),           // Moksha
    ("zea", 7_400),           // Zeelandic
    ("kw", 7_243),            // Cornish
    ("tk", 7_207),            // Turkmen
    ("kab", 7_147),           // Kabyle
    ("gv", 7_112),            // Manx
    ("vep", 7_112),           // Veps
    ("fiu-vro", 6_909),       // Võro
    ("gan", 6_816),           // Gan
    ("smn", 6_718),           // Inari Sami
    ("ab", 6_640),            // Abkhazian
    ("pcd", 6_124),           // Picard
    ("gn", 6_033),            // Guarani
    ("udm", 5_914),           // Udmurt
    ("frp", 5_829),           // Arpitan
    ("kv", 5_821),            // Komi
    ("csb", 5_692),           // Kashubian
    ("lg", 5_685),            // Ganda
    ("pap", 5_591),           // Papiamento
    ("lo", 5_583),            // Lao
    ("gpe", 5_511),           // Ghanaian Pidgin
    ("mad", 5_375),           // Madurese
    ("ay", 5_286),            // Aymara
    ("fur", 5_231),           // Friulian
    ("ang", 5_229),           // Old English
    ("ln", 5_227),            // Lingala
    ("tn", 5_221),            // Tswana
    ("nrm", 5_060),           // Norman
    ("olo", 5_017),           // Livvi-Karelian
    ("tw", 4_735),            // Twi
    ("lfn", 4_664),           // Lingua Franca Nova
    ("lez", 4_476),           // Lezghian
    ("tok", 4_462),           // Toki Pona
    ("fon", 4_451),           // Fon
    ("mwl", 4_339),           // Mirandese
    ("ext", 4_240),           // Extremaduran
    ("stq", 4_188),           // Saterland Frisian
    ("mnw", 4_173),           // Mon
    ("tyv", 4_128),           // Tuvinian
    ("lad", 4_064),           // Ladino
    ("nah", 4_044),           // Nahuatl
    ("av", 4_016),            // Avaric
    ("rm", 3_867),            // Romansh
    ("dty", 3_741),           // Doteli
    ("tcy", 3_658),           // Tulu
    ("mag", 3_654),           // Magahi
    ("gom", 3_643),           // Goan Konkani
    ("koi", 3_472),           // Komi-Permyak
    ("dsb", 3_444),           // Lower Sorbian
    ("dga", 3_421),           // Southern Dagaare
    ("bew", 3_334),           // Betawi
    ("dv", 3_218),            // Divehi
    ("blk", 3_087),           // Pa'O
    ("ksh", 3_038),           // Colognian
    ("za", 3_019),            // Zhuang
    ("gag", 3_008),           // Gagauz
    ("bxr", 2_918),           // Russia Buriat
    ("kge", 2_909),           // Komering
    ("awa", 2_900),           // Awadhi
    ("haw", 2_896),           // Hawaiian
    ("pfl", 2_865),           // Palatine German
    ("krc", 2_862),           // Karachay-Balkar
    ("cbk-zam", 2_855),       // Chavacano
    ("szy", 2_745),           // Sakizaya
    ("pag", 2_652),           // Pangasinan
    ("tay", 2_582),           // Atayal
    ("inh", 2_554),           // Ingush
    ("ki", 2_515),            // Kikuyu
    ("xh", 2_506),            // Xhosa
    ("iba", 2_483),           // Iban
    ("atj", 2_080),           // Atikamekw
    ("nov", 2_069),           // Novial
    ("to", 2_047),            // Tongan
    ("pdc", 2_029),           // Pennsylvania German
    ("knc", 2_003),           // Central Kanuri
    ("dtp", 1_968),           // Central Dusun
    ("om", 1_968),            // Oromo
    ("st", 1_967),            // Southern Sotho
    ("kg", 1_949),            // Kongo
    ("arc", 1_920),           // Aramaic
    ("kcg", 1_878),           // Tyap
    ("fat", 1_796),           // Fanti
    ("nia", 1_778),           // Nias
    ("wo", 1_742),            // Wolof
    ("fj", 1_726),            // Fijian
    ("kai", 1_722),           // Karekare
    ("jam", 1_719),           // Jamaican Creole English
    ("kbp", 1_714),           // Kabiye
    ("guw", 1_697),           // Gun
    ("anp", 1_688),           // Angika
    ("kbd", 1_669),           // Kabardian
    ("nqo", 1_617),           // N’Ko
    ("pcm", 1_605),           // Nigerian Pidgin
    ("xal", 1_575),           // Kalmyk
    ("tet", 1_543),           // Tetum
    ("igl", 1_511),           // Igala
    ("rki", 1_499),           // Arakanese
    ("bi", 1_486),            // Bislama
    ("cu", 1_466),            // Church Slavic
    ("isv", 1_450),           // Interslavic
    ("bbc", 1_444),           // Batak Toba
    ("tpi", 1_416),           // Tok Pisin
    ("rsk", 1_411),           // Pannonian Rusyn
    ("roa-rup", 1_389),       // Aromanian
    ("gur", 1_380),           // Frafra
    ("kus", 1_367),           // Kusaal
    ("jbo", 1_357),           // Lojban
    ("ee", 1_351),            // Ewe
    ("mos", 1_325),           // Mossi
    ("ty", 1_252),            // Tahitian
    ("syl", 1_231),           // Sylheti
    ("btm", 1_229),           // Batak Mandailing
    ("sm", 1_209),            // Samoan
    ("trv", 1_201),           // Taroko
    ("ss", 1_160),            // Swati
    ("ltg", 1_154),           // Latgalian
    ("ami", 1_149),           // Amis
    ("srn", 1_132),           // Sranan Tongo
    ("ny", 1_123),            // Nyanja
    ("alt", 1_110),           // Southern Altai
    ("ts", 1_097),            // Tsonga
    ("gcr", 1_077),           // Guianan Creole
    ("lbe", 1_069),           // Lak
    ("chr", 1_034),           // Cherokee
    ("got", 1_018),           // Gothic
    ("nup", 955),             // Nupe
    ("bm", 930),              // Bambara
    ("ve", 903),              // Venda
    ("rmy", 758),             // Vlax Romani
    ("rn", 729),              // Rundi
    ("chy", 718),             // Cheyenne
    ("guc", 705),             // Wayuu
    ("pnt", 667),             // Pontic
    ("ady", 646),             // Adyghe
    ("ik", 595),              // Inupiaq
    ("ch", 581),              // Chamorro
    ("tdd", 448),             // Tai Nuea
    ("ann", 436),             // Obolo
    ("iu", 434),              // Inuktitut
    ("pwn", 394),             // Paiwan
    ("dz", 383),              // Dzongkha
    ("sg", 374),              // Sango
    ("ti", 365),              // Tigrinya
    ("din", 337),             // Dinka
    ("nr", 327),              // South Ndebele
    ("pi", 302),              // Pali
    ("kaj", 300),             // Jju
    ("ppl", 255),             // Nawat
    ("bdr", 242),             // West Coast Bajau
    ("tig", 62),              // Tigre
];
