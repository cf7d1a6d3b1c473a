# ruff: noqa: E501 - phrase material: one natural sentence per line reads better than wrapped
"""Phrase material for the demo data: how real customers and agents write, in four languages.

Pure data, no logic. The generator (agentcli.demo.generator) compiles it once into fast
lookup tables. Multilingual phrases are 4-tuples in LANGS order. Templates use `{slot}`
placeholders that the generator fills per ticket:

  {product} {defect} {order} {tracking} {carrier} {amount} {diff} {days} {weekday}
  {return_tracking} {first} (customer's given name) {agent} (agent's display name)

Vocabulary follows /work/shared/reference/aftersale-terms-sources.md: 退货退款, 仅退款, 换货,
补发, 价保, 七天无理由, 原路退款, 签收, 上门取件 (Taobao/JD wording); 鑑賞期, 超商取貨 (Taiwan);
повернення коштів, обмін, ТТН, відділення, легке повернення (Ukrainian shops, Nova Poshta).
zh-TW text is always Traditional characters with Taiwanese wording.
"""

from __future__ import annotations

LANGS: tuple[str, ...] = ("zh-CN", "zh-TW", "uk", "en")

# Share of tickets per language: a China-centred shop with Taiwan, Ukraine and US storefronts.
LANGUAGE_WEIGHTS: dict[str, float] = {"zh-CN": 0.40, "zh-TW": 0.15, "uk": 0.20, "en": 0.25}

CURRENCY: dict[str, str] = {"zh-CN": "CNY", "zh-TW": "TWD", "uk": "UAH", "en": "USD"}
# Rough retail price conversion from CNY list prices.
PRICE_RATE: dict[str, float] = {"zh-CN": 1.0, "zh-TW": 4.4, "uk": 5.6, "en": 0.14}

# Channel mix differs by market: marketplace chat dominates in China, email in the US.
CHANNEL_WEIGHTS: dict[str, dict[str, float]] = {
    "zh-CN": {"chat": 35, "marketplace": 35, "phone": 10, "social": 10, "web": 6, "email": 4},
    "zh-TW": {"chat": 30, "marketplace": 25, "social": 20, "email": 10, "web": 10, "phone": 5},
    "uk": {"chat": 25, "phone": 20, "social": 20, "email": 15, "web": 12, "marketplace": 8},
    "en": {"email": 40, "chat": 25, "web": 15, "social": 8, "marketplace": 7, "phone": 5},
}

# (carrier as stored in orders.carrier, localized name customers write, tracking format, weight)
# Tracking formats: "SF" + 13 digits, JD "JDVA" + 11, YTO "YT" + 13, Nova Poshta ТТН
# "20450" + 9, Ukrposhta 13 digits from "05", UPS "1Z" + 16 alnum, USPS 22 digits from "9400".
CARRIERS: dict[str, tuple[tuple[str, str, str, int], ...]] = {
    "zh-CN": (
        ("SF Express", "顺丰", "SF#13", 40),
        ("JD Logistics", "京东快递", "JDVA#11", 35),
        ("YTO Express", "圆通", "YT#13", 25),
    ),
    "zh-TW": (
        ("T-Cat", "黑貓宅急便", "#12", 45),
        ("Hsinchu Logistics", "新竹物流", "#10", 25),
        ("SF Express", "順豐", "SF#13", 30),
    ),
    "uk": (
        ("Nova Poshta", "Нової пошти", "20450#9", 80),
        ("Ukrposhta", "Укрпошти", "05#11", 20),
    ),
    "en": (
        ("UPS", "UPS", "1Z@16", 50),
        ("USPS", "USPS", "9400#18", 35),
        ("FedEx", "FedEx", "#12", 15),
    ),
}

WEEKDAYS: tuple[tuple[str, str, str, str], ...] = (
    ("周一", "週一", "понеділка", "Monday"),
    ("周二", "週二", "вівторка", "Tuesday"),
    ("周三", "週三", "середи", "Wednesday"),
    ("周四", "週四", "четверга", "Thursday"),
    ("周五", "週五", "п'ятниці", "Friday"),
    ("周末", "週末", "вихідних", "the weekend"),
)

# (sku prefix, category, names in LANGS order, list price in CNY)
PRODUCTS: tuple[tuple[str, str, tuple[str, str, str, str], int], ...] = (
    ("RC", "appliance", ("电饭煲", "電子鍋", "мультиварка", "rice cooker"), 399),
    ("AF", "appliance", ("空气炸锅", "氣炸鍋", "аерогриль", "air fryer"), 459),
    ("HD", "appliance", ("吹风机", "吹風機", "фен", "hair dryer"), 299),
    ("RV", "appliance", ("扫地机器人", "掃地機器人", "робот-пилосос", "robot vacuum"), 1899),
    ("KT", "appliance", ("电热水壶", "快煮壺", "електрочайник", "electric kettle"), 169),
    ("CM", "appliance", ("咖啡机", "咖啡機", "кавоварка", "espresso machine"), 1299),
    (
        "EB",
        "electronics",
        ("蓝牙耳机", "藍牙耳機", "бездротові навушники", "wireless earbuds"),
        499,
    ),
    ("PH", "electronics", ("手机", "手機", "смартфон", "smartphone"), 3299),
    ("TB", "electronics", ("平板电脑", "平板電腦", "планшет", "tablet"), 2499),
    ("SW", "electronics", ("智能手表", "智慧手錶", "смарт-годинник", "smartwatch"), 899),
    ("PB", "electronics", ("充电宝", "行動電源", "павербанк", "power bank"), 149),
    (
        "KB",
        "electronics",
        ("机械键盘", "機械鍵盤", "механічна клавіатура", "mechanical keyboard"),
        399,
    ),
    ("MN", "electronics", ("显示器", "螢幕", "монітор", "monitor"), 1499),
    ("DJ", "apparel", ("羽绒服", "羽絨外套", "пуховик", "down jacket"), 899),
    ("SN", "apparel", ("运动鞋", "運動鞋", "кросівки", "running shoes"), 599),
    ("DR", "apparel", ("连衣裙", "洋裝", "сукня", "dress"), 259),
    ("JN", "apparel", ("牛仔裤", "牛仔褲", "джинси", "jeans"), 199),
    ("BS", "home", ("四件套床品", "床包四件組", "комплект постільної білизни", "bedding set"), 329),
    ("TM", "home", ("保温杯", "保溫瓶", "термочашка", "insulated tumbler"), 129),
    ("SC", "home", ("行李箱", "行李箱", "валіза", "suitcase"), 699),
    ("LP", "home", ("台灯", "檯燈", "настільна лампа", "desk lamp"), 189),
    ("CH", "home", ("人体工学椅", "人體工學椅", "ергономічне крісло", "ergonomic chair"), 1199),
)

# Defects customers report, per product category (as a customer would phrase them).
DEFECTS: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "appliance": (
        ("内胆有凹痕", "內鍋有凹痕", "є вм'ятина на корпусі", "has a dent in the housing"),
        ("通电后没反应", "插電後沒反應", "не вмикається", "won't turn on"),
        (
            "有很大的塑料味",
            "有很重的塑膠味",
            "сильно пахне пластиком",
            "smells strongly of plastic",
        ),
        ("按键失灵", "按鍵失靈", "кнопки не працюють", "has buttons that don't respond"),
        (
            "用了两次就坏了",
            "用兩次就壞了",
            "зламалася після двох використань",
            "broke after two uses",
        ),
        ("外壳裂了", "外殼裂開", "тріснув корпус", "has a cracked casing"),
        ("工作时噪音特别大", "運作時噪音超大", "дуже гучно працює", "is extremely loud"),
    ),
    "electronics": (
        ("屏幕有划痕", "螢幕有刮痕", "подряпина на екрані", "has a scratch on the screen"),
        ("充不进电", "充不進電", "не заряджається", "won't charge"),
        (
            "左耳没有声音",
            "左耳沒有聲音",
            "не працює лівий навушник",
            "has no sound in the left earbud",
        ),
        ("蓝牙连不上", "藍牙連不上", "не підключається по Bluetooth", "won't pair over Bluetooth"),
        ("开机就死机", "開機就當機", "зависає при увімкненні", "freezes on startup"),
        (
            "电池掉电特别快",
            "電池掉電超快",
            "батарея швидко сідає",
            "drains its battery within hours",
        ),
        ("有坏点", "有壞點", "є биті пікселі", "has dead pixels"),
        (
            "几个按键不灵",
            "幾個按鍵不靈",
            "кілька клавіш не працюють",
            "has several keys that don't work",
        ),
    ),
    "apparel": (
        ("尺码偏小", "尺寸偏小", "розмір замалий", "runs too small"),
        (
            "有明显色差",
            "有明顯色差",
            "колір не такий, як на фото",
            "looks a different colour than the photos",
        ),
        ("拉链坏了", "拉鍊壞了", "зламана блискавка", "has a broken zipper"),
        ("开线了", "脫線了", "розійшовся шов", "has a split seam"),
        ("洗了一次就掉色", "洗一次就褪色", "полиняли після першого прання", "faded after one wash"),
        ("有污渍", "有污漬", "є плями", "arrived stained"),
    ),
    "home": (
        ("杯盖漏水", "杯蓋會漏水", "протікає кришка", "leaks from the lid"),
        ("轮子坏了一个", "輪子壞了一個", "зламане колесо", "has a broken wheel"),
        ("有一股异味", "有一股怪味", "має неприємний запах", "has a strange smell"),
        ("表面有划痕", "表面有刮痕", "подряпини на поверхні", "is scratched"),
        ("少了几颗螺丝", "少了幾顆螺絲", "не вистачає гвинтів", "is missing screws"),
        ("灯不亮", "燈不亮", "не світиться", "doesn't light up"),
    ),
}

# Customer names: (family names, given names, latin handle stems for e-mail addresses).
NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "zh-CN": (
        ("王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡"),
        (
            "伟",
            "芳",
            "娜",
            "敏",
            "静",
            "丽",
            "强",
            "磊",
            "洋",
            "艳",
            "勇",
            "军",
            "杰",
            "娟",
            "涛",
            "明",
            "超",
            "秀英",
            "小红",
            "晓东",
            "海燕",
            "建华",
            "子涵",
            "一诺",
            "浩然",
        ),
        (
            "wang",
            "li",
            "zhang",
            "liu",
            "chen",
            "yang",
            "zhao",
            "huang",
            "zhou",
            "wu",
            "xiaoyu",
            "mingming",
            "lele",
            "tiantian",
            "dabao",
        ),
    ),
    "zh-TW": (
        ("陳", "林", "黃", "張", "李", "王", "吳", "劉", "蔡", "楊", "許", "鄭", "謝", "郭", "洪"),
        (
            "怡君",
            "雅婷",
            "志明",
            "俊傑",
            "家豪",
            "淑芬",
            "宗翰",
            "佩珊",
            "冠宇",
            "欣怡",
            "承恩",
            "筱涵",
            "建宏",
            "美玲",
            "柏翰",
        ),
        (
            "chen",
            "lin",
            "huang",
            "chang",
            "tsai",
            "yating",
            "jerry",
            "amy",
            "kevin",
            "vivian",
            "peishan",
            "ianlin",
            "momo",
        ),
    ),
    "uk": (
        (
            "Коваленко",
            "Шевченко",
            "Бондаренко",
            "Ткаченко",
            "Кравченко",
            "Мельник",
            "Бойко",
            "Коваль",
            "Олійник",
            "Поліщук",
            "Лисенко",
            "Гнатюк",
            "Савчук",
            "Марченко",
        ),
        (
            "Олена",
            "Андрій",
            "Ірина",
            "Олександр",
            "Наталія",
            "Дмитро",
            "Юлія",
            "Сергій",
            "Оксана",
            "Максим",
            "Тетяна",
            "Богдан",
            "Марія",
            "Віталій",
            "Катерина",
            "Тарас",
        ),
        (
            "olena",
            "andrii",
            "iryna",
            "sasha",
            "natali",
            "dima",
            "yulia",
            "serhii",
            "oksana",
            "max",
            "tania",
            "bohdan",
            "kateryna",
            "taras",
        ),
    ),
    "en": (
        (
            "Smith",
            "Johnson",
            "Williams",
            "Brown",
            "Jones",
            "Garcia",
            "Miller",
            "Davis",
            "Rodriguez",
            "Martinez",
            "Wilson",
            "Anderson",
            "Taylor",
            "Thomas",
            "Nguyen",
            "Patel",
        ),
        (
            "James",
            "Mary",
            "Michael",
            "Jennifer",
            "David",
            "Linda",
            "Chris",
            "Sarah",
            "Daniel",
            "Jessica",
            "Matthew",
            "Ashley",
            "Kevin",
            "Emily",
            "Brian",
            "Megan",
            "Jason",
            "Olivia",
        ),
        (
            "james",
            "mary",
            "mike",
            "jen",
            "dave",
            "linda",
            "chris",
            "sarah",
            "dan",
            "jess",
            "matt",
            "ashley",
            "kev",
            "emily",
            "brian",
            "meg",
        ),
    ),
}

EMAIL_DOMAINS: dict[str, tuple[str, ...]] = {
    "zh-CN": ("qq.com", "163.com", "126.com", "foxmail.com", "sina.com"),
    "zh-TW": ("gmail.com", "yahoo.com.tw", "hotmail.com", "pchome.com.tw"),
    "uk": ("gmail.com", "ukr.net", "i.ua", "meta.ua"),
    "en": ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "hotmail.com"),
}

# Customer-chat handle kinds per market (stored in customers.handles).
HANDLE_KIND: dict[str, str] = {"zh-CN": "wechat", "zh-TW": "line", "uk": "telegram", "en": "x"}

TIERS: tuple[tuple[str, float], ...] = (
    ("regular", 0.70),
    ("silver", 0.15),
    ("gold", 0.10),
    ("vip", 0.05),
)

# login, name, role, languages (first = the language they write notes in), capacity, queues
AGENTS: tuple[tuple[str, str, str, str, int, str], ...] = (
    ("li.na", "李娜", "agent", "zh-CN,en", 30, "returns,refunds"),
    ("wang.fang", "王芳", "agent", "zh-CN", 35, "logistics,presale"),
    ("zhang.wei", "张伟", "supervisor", "zh-CN,zh-TW,en", 15, "vip,complaints,refunds"),
    ("chen.jing", "陈静", "agent", "zh-CN", 30, "warranty,returns"),
    ("liu.yang", "刘洋", "agent", "zh-CN", 40, "refunds,logistics"),
    ("zhao.min", "赵敏", "agent", "zh-CN,zh-TW", 25, "presale,returns,warranty"),
    ("lin.yiting", "林怡婷", "agent", "zh-TW,zh-CN", 30, "returns,refunds,logistics"),
    ("huang.jianhong", "黃建宏", "supervisor", "zh-TW,en", 15, "warranty,vip,complaints"),
    ("tsai.peishan", "蔡佩珊", "agent", "zh-TW", 25, "presale,logistics,returns"),
    ("olena.koval", "Олена Коваль", "agent", "uk,en", 30, "returns,refunds,warranty"),
    ("andrii.melnyk", "Андрій Мельник", "agent", "uk", 35, "logistics,warranty,returns"),
    ("iryna.bondar", "Ірина Бондар", "supervisor", "uk,en", 15, "vip,complaints,refunds"),
    ("taras.shevchuk", "Тарас Шевчук", "agent", "uk", 25, "presale,logistics,returns"),
    ("sarah.miller", "Sarah Miller", "agent", "en", 30, "returns,refunds,warranty"),
    ("james.chen", "James Chen", "agent", "zh-CN,en", 30, "logistics,warranty,returns"),
    ("emily.davis", "Emily Davis", "supervisor", "en", 15, "vip,complaints,refunds"),
    ("mike.brown", "Mike Brown", "agent", "en,uk", 30, "presale,refunds,logistics"),
    ("ops.admin", "Ops Admin", "admin", "en,zh-CN", 0, ""),
)

QUEUES: tuple[str, ...] = (
    "returns",
    "refunds",
    "logistics",
    "warranty",
    "presale",
    "vip",
    "complaints",
)

# Greetings that open a customer's first message (empty = straight to the point).
CUSTOMER_GREETINGS: dict[str, tuple[str, ...]] = {
    "zh-CN": (
        "你好，",
        "您好，",
        "在吗？",
        "客服你好，",
        "客服在吗？",
        "",
        "",
        "亲，",
        "麻烦问一下，",
    ),
    "zh-TW": ("您好，", "你好，", "請問一下，", "客服您好，", "", "哈囉，", "不好意思，"),
    "uk": ("Добрий день! ", "Доброго дня. ", "Вітаю! ", "Привіт. ", "", "Добрий вечір, "),
    "en": ("Hi, ", "Hello, ", "Hi there, ", "", "Good morning, ", "Hey, "),
}

# Chinese sign-offs get a "，" before them unless the message already ends a sentence.
CUSTOMER_SIGNOFFS: dict[str, tuple[str, ...]] = {
    "zh-CN": ("", "", "谢谢", "麻烦尽快处理，谢谢！", "急，在线等", "谢谢！", "辛苦了"),
    "zh-TW": ("", "", "謝謝", "麻煩盡快處理，謝謝！", "謝謝您", "再麻煩了"),
    "uk": ("", "", " Дякую.", " Дякую!", " Чекаю на відповідь.", " Заздалегідь дякую."),
    "en": ("", "", " Thanks.", " Thank you!", " Please advise.", " Thanks in advance."),
}

AGENT_GREETINGS: dict[str, tuple[str, ...]] = {
    "zh-CN": ("亲，您好～", "您好，", "亲亲，", "您好，很抱歉给您带来不便。"),
    "zh-TW": ("您好，", "親愛的顧客您好，", "您好，很抱歉造成您的困擾。"),
    "uk": ("Вітаю, {first}! ", "Добрий день, {first}. ", "Доброго дня! ", "{first}, вітаю! "),
    "en": ("Hi {first}, ", "Hello {first}, ", "Hi {first}, thanks for reaching out. "),
}

AGENT_SIGNOFFS: dict[str, tuple[str, ...]] = {
    "zh-CN": ("", "祝您生活愉快！", "有问题随时联系我们哦～", "给您带来不便非常抱歉。"),
    "zh-TW": ("", "祝您順心！", "有任何問題歡迎隨時聯繫我們。", "造成不便敬請見諒。"),
    "uk": ("", " Гарного дня!", " Якщо будуть питання, пишіть.", " З повагою, {agent}."),
    "en": ("", " Best, {agent}", " Have a great day!", " Let me know if there's anything else."),
}


# A scenario: why the customer writes. case_types pairs a case type (None = no after-sale
# case) with its weight; tags are per language; delivered says whether the order arrived.
SCENARIOS: tuple[dict, ...] = (
    {
        "key": "damaged",
        "weight": 14,
        "case_types": (("return-and-refund", 6), ("exchange", 3), ("refund-only", 1)),
        "queue": "returns",
        "delivered": True,
        "tags": {
            "zh-CN": ("破损",),
            "zh-TW": ("破損",),
            "uk": ("пошкодження",),
            "en": ("damaged",),
        },
        "subject": {
            "zh-CN": (
                "{product}收到破损，申请退货退款",
                "收到的{product}外包装破损",
                "{product}到货就坏了",
            ),
            "zh-TW": (
                "{product}收到時已破損",
                "收到的{product}外箱壓壞了",
                "{product}到貨就有損壞",
            ),
            "uk": (
                "Пошкоджений товар: {product}",
                "Пошкоджений товар у замовленні {order}",
                "Пошкоджена посилка",
            ),
            "en": (
                "Damaged {product} on arrival",
                "{product} arrived broken",
                "Order {order} arrived damaged",
            ),
        },
        "opener": {
            "zh-CN": (
                "我买的{product}收到时外包装破损，{defect}，申请退货退款",
                "订单{order}的{product}今天收到，箱子都压扁了，打开一看{defect}，怎么处理？",
                "快递送来的{product}外箱破了，{defect}，照片已经拍了，我要退货",
                "刚签收的{product}，{defect}，明显是运输过程中摔的，能换个新的吗？",
            ),
            "zh-TW": (
                "我買的{product}收到時外箱破損，{defect}，想申請退貨退款",
                "訂單{order}的{product}今天到貨，箱子整個壓扁，打開發現{defect}，請問怎麼處理？",
                "宅配送來的{product}外盒破了，{defect}，已經拍照了，可以換一台新的嗎？",
            ),
            "uk": (
                "Сьогодні забрала посилку у відділенні {carrier}: коробка пом'ята, {product} — {defect}. Хочу оформити повернення.",
                "Замовлення {order} прийшло пошкоджене: {defect}. Фото можу надіслати. Що робити?",
                "Забрав посилку (ТТН {tracking}), а там {product} — {defect}. Прошу заміну або повернення коштів.",
            ),
            "en": (
                "my {product} from order {order} arrived today and the box was crushed. The unit {defect}. I'd like a refund.",
                "the {product} I received {defect} — the packaging was clearly damaged in transit. Can you send a replacement?",
                "order {order} was delivered by {carrier} but the {product} {defect}. I have photos of the box.",
            ),
        },
        "agent_first": {
            "zh-CN": (
                "麻烦您提供一下外包装和商品破损处的照片，我们这边马上为您登记售后。",
                "非常抱歉让您收到破损的商品，请上传破损照片，核实后为您办理退货退款，运费由我们承担。",
                "已经为您申请了退货退款，快递员会上门取件，请保持商品和配件完整。",
            ),
            "zh-TW": (
                "麻煩您提供外箱和商品損壞處的照片，我們會立即為您登記售後。",
                "很抱歉讓您收到損壞的商品，已為您安排退貨，物流會到府收件，運費由我們負擔。",
            ),
            "uk": (
                "Дуже шкода, що так сталося. Надішліть, будь ласка, фото коробки й пошкодження — одразу оформимо повернення.",
                "Перепрошуємо за незручності. Ми створили заявку на повернення, відправте товар назад за ТТН, доставка за наш рахунок.",
            ),
            "en": (
                "I'm sorry the {product} arrived damaged. Could you send a couple of photos of the box and the damage? I'll get this sorted right away.",
                "So sorry about that! I've opened a return for order {order}; you'll get a prepaid {carrier} label by email shortly.",
            ),
        },
        "followup": {
            "zh-CN": (
                "照片已经发了，麻烦看一下",
                "上门取件是哪天？",
                "退款多久能到账？",
                "已经寄回了，单号{return_tracking}",
            ),
            "zh-TW": ("照片已經傳了，麻煩看一下", "請問什麼時候來收件？", "退款大概多久會入帳？"),
            "uk": (
                "Фото надіслала в чат.",
                "Відправила назад, ТТН {return_tracking}.",
                "Коли повернуться кошти?",
            ),
            "en": (
                "Photos attached.",
                "Shipped it back today, tracking {return_tracking}.",
                "How long will the refund take?",
            ),
        },
    },
    {
        "key": "defect",
        "weight": 12,
        "case_types": (("repair", 5), ("exchange", 3), ("return-and-refund", 2)),
        "queue": "warranty",
        "delivered": True,
        "tags": {
            "zh-CN": ("质量问题",),
            "zh-TW": ("品質問題",),
            "uk": ("брак", "гарантія"),
            "en": ("defective", "warranty"),
        },
        "subject": {
            "zh-CN": (
                "{product}{defect}",
                "{product}质量问题，申请维修",
                "刚买的{product}就出问题了",
            ),
            "zh-TW": ("{product}{defect}", "{product}品質有問題", "請問{product}保固怎麼申請"),
            "uk": (
                "{product} — {defect}",
                "Гарантійний ремонт: {product}",
                "Брак товару, замовлення {order}",
            ),
            "en": ("{product} {defect}", "Warranty claim for {product}", "Defective {product}"),
        },
        "opener": {
            "zh-CN": (
                "{product}买了才{days}天就{defect}，还在保修期内吧？怎么申请维修？",
                "我的{product}{defect}，重启也没用，是不是质量问题？要换新的",
                "订单号{order}，{product}{defect}，这才用了一周，太失望了",
            ),
            "zh-TW": (
                "{product}買了才{days}天就{defect}，應該還在保固內吧？要怎麼送修？",
                "我的{product}{defect}，重開機也沒用，可以換一台嗎？",
            ),
            "uk": (
                "Купив {days} днів тому, а вже проблема: {product} — {defect}. Це гарантійний випадок? Як оформити ремонт?",
                "У мене проблема: {product} — {defect}. Товар неналежної якості, прошу заміну згідно із Законом про захист прав споживачів.",
                "Замовлення {order}: {product} — {defect}. Перезавантаження не допомагає.",
            ),
            "en": (
                "I bought a {product} {days} days ago and it already {defect}. Is this covered under warranty?",
                "my {product} {defect}. I've tried resetting it twice. Can I get a replacement?",
                "the {product} from order {order} {defect}. Really disappointed, it's barely a week old.",
            ),
        },
        "agent_first": {
            "zh-CN": (
                "麻烦您拍一段故障视频发给我们，我们的技术同事会帮您判断，如属质量问题可享受三包服务。",
                "您的商品在保修期内，已为您创建维修服务单，请将商品寄回售后中心，我们收到后3-5个工作日检测。",
            ),
            "zh-TW": (
                "麻煩您錄一段故障影片給我們，技術人員會協助判斷，若屬品質問題可享保固服務。",
                "您的商品仍在保固期內，已為您建立維修單，請將商品寄回維修中心。",
            ),
            "uk": (
                "Надішліть, будь ласка, коротке відео з несправністю. Якщо це заводський брак, оформимо ремонт або обмін за гарантією.",
                "Товар на гарантії. Ми створили запит на ремонт — відправте виріб на наш сервісний центр через Нову пошту, доставка за наш рахунок.",
            ),
            "en": (
                "Sorry to hear that. Could you send a short video showing the issue? If it's a manufacturing defect it's covered by our 1-year warranty.",
                "Your {product} is under warranty. I've created a repair order — please ship it to our service center with the prepaid label I just emailed.",
            ),
        },
        "followup": {
            "zh-CN": (
                "视频发你们了",
                "维修要多久？",
                "能不能直接换新的，不想修了",
                "寄过去了，{carrier}单号{return_tracking}",
            ),
            "zh-TW": ("影片傳了", "維修大概要多久？", "可以直接換新的嗎？"),
            "uk": ("Відео надіслав.", "Скільки триватиме ремонт?", "Краще обмін, ремонт не хочу."),
            "en": (
                "Video sent.",
                "How long does the repair usually take?",
                "I'd rather have a replacement than a repair.",
            ),
        },
    },
    {
        "key": "wrong_item",
        "weight": 7,
        "case_types": (("exchange", 7), ("return-and-refund", 3)),
        "queue": "returns",
        "delivered": True,
        "tags": {
            "zh-CN": ("发错货",),
            "zh-TW": ("寄錯貨",),
            "uk": ("не-той-товар",),
            "en": ("wrong-item",),
        },
        "subject": {
            "zh-CN": ("发错货了", "收到的{product}不是我下单的型号", "{product}颜色发错了"),
            "zh-TW": ("寄錯商品", "收到的{product}型號不對", "{product}顏色寄錯了"),
            "uk": ("Надіслали не той товар", "Не той розмір / колір, замовлення {order}"),
            "en": (
                "Wrong item received",
                "Received the wrong {product}",
                "Wrong size in order {order}",
            ),
        },
        "opener": {
            "zh-CN": (
                "我下单的是黑色的{product}，收到的是白色的，麻烦给换一下",
                "订单{order}，收到的{product}型号跟页面上的不一样，是不是发错了？",
                "你们发错货了，我买的{product}，盒子里是别的东西",
            ),
            "zh-TW": (
                "我訂的是黑色{product}，收到的卻是白色，麻煩幫我換貨",
                "訂單{order}收到的{product}規格跟頁面不一樣，是不是寄錯了？",
            ),
            "uk": (
                "Замовляла чорний колір ({product}), а прийшов білий. Хочу обмін.",
                "У замовленні {order} прийшов не той розмір. Як оформити обмін?",
            ),
            "en": (
                "I ordered a black {product} but received a white one. Can you exchange it?",
                "order {order} came with the wrong size. I need the one I actually ordered.",
            ),
        },
        "agent_first": {
            "zh-CN": (
                "非常抱歉发错了货，已为您安排换货，快递员会上门取回错发的商品，正确的商品今天就给您补发。",
                "麻烦您拍一下收到商品的标签照片，我们核实后立即为您换货。",
            ),
            "zh-TW": ("非常抱歉寄錯商品，已為您安排換貨，正確商品今天就會寄出。",),
            "uk": (
                "Перепрошуємо за помилку! Оформили обмін: правильний товар відправимо сьогодні, а помилковий поверніть за ТТН, що ми надішлемо.",
            ),
            "en": (
                "Apologies for the mix-up! I've set up an exchange — the correct {product} ships today, and here's a prepaid label for the wrong one.",
            ),
        },
        "followup": {
            "zh-CN": ("好的，什么时候能发出？", "错发的那个我已经寄回了", "麻烦快点，急用"),
            "zh-TW": ("好的，什麼時候會寄出？", "寄錯的那個我已經寄回了"),
            "uk": ("Добре, коли відправите?", "Помилковий товар вже відправила назад."),
            "en": ("Ok, when will it ship?", "I've dropped the wrong one off at {carrier}."),
        },
    },
    {
        "key": "not_received",
        "weight": 10,
        "case_types": (("reship", 5), ("refund-only", 4), (None, 1)),
        "queue": "logistics",
        "delivered": True,
        "tags": {
            "zh-CN": ("物流异常", "未收到"),
            "zh-TW": ("物流異常", "未收到"),
            "uk": ("доставка", "не-отримано"),
            "en": ("lost-parcel",),
        },
        "subject": {
            "zh-CN": ("显示已签收但没收到货", "快递显示签收了，我没收到", "包裹丢了？"),
            "zh-TW": ("包裹顯示已簽收但我沒收到", "顯示已取貨但我沒拿到", "包裹遺失？"),
            "uk": (
                "Посилка позначена як отримана, але я її не отримувала",
                "Де моя посилка? ТТН {tracking}",
            ),
            "en": (
                "Package marked delivered but not received",
                "Where is my package?",
                "Missing parcel, order {order}",
            ),
        },
        "opener": {
            "zh-CN": (
                "物流显示{weekday}已经签收了，但我根本没收到，也没人给我打电话，{carrier}单号{tracking}",
                "订单{order}显示已签收，我问了门卫和驿站都没有，麻烦查一下",
                "快递说放快递柜了，可是我没收到取件码，现在显示已签收",
            ),
            "zh-TW": (
                "您好，包裹顯示已簽收但我沒收到，{carrier}單號{tracking}",
                "訂單{order}顯示{weekday}已送達，但管理室說沒有我的包裹",
                "超商取貨顯示已取件，可是我根本沒去拿",
            ),
            "uk": (
                "У трекінгу {carrier} написано, що посилку отримано, але я її не забирала! ТТН {tracking}.",
                "Замовлення {order} позначене як доставлене з {weekday}, але до мене ніхто не приїжджав.",
            ),
            "en": (
                "tracking says my package was delivered on {weekday} but it's not here. Tracking number {tracking}.",
                "{carrier} marked order {order} as delivered but I never got it. Checked with neighbors too.",
            ),
        },
        "agent_first": {
            "zh-CN": (
                "非常抱歉，已经帮您联系{carrier}核实签收情况，24小时内给您回复，如确认丢件会第一时间给您补发或退款。",
                "已为您向快递发起查件，请留意电话，核实后给您补发。",
            ),
            "zh-TW": (
                "很抱歉，已為您向{carrier}查詢簽收狀況，24小時內回覆您，若確認遺失會立即補寄。",
            ),
            "uk": (
                "Ми відкрили запит до {carrier} щодо ТТН {tracking}. Відповімо протягом доби; якщо посилку втрачено — надішлемо нову або повернемо кошти.",
            ),
            "en": (
                "I'm sorry about this. I've opened a trace with {carrier} for {tracking}. If it isn't found within 48 hours we'll reship or refund you.",
            ),
        },
        "followup": {
            "zh-CN": (
                "查到了吗？",
                "还是没找到，直接给我补发吧",
                "都三天了还没消息",
                "能直接退款吗？",
            ),
            "zh-TW": ("請問查到了嗎？", "還是沒找到，可以直接補寄嗎？"),
            "uk": ("Є новини?", "Досі нічого. Надішліть, будь ласка, нову посилку."),
            "en": (
                "Any update?",
                "Still nothing. Can you just send a new one?",
                "It's been 3 days, please refund me.",
            ),
        },
    },
    {
        "key": "delay",
        "weight": 13,
        "case_types": ((None, 7), ("refund-only", 2), ("complaint", 1)),
        "queue": "logistics",
        "delivered": False,
        "tags": {
            "zh-CN": ("催发货", "物流异常"),
            "zh-TW": ("催出貨", "物流延遲"),
            "uk": ("затримка", "доставка"),
            "en": ("delayed", "shipping"),
        },
        "subject": {
            "zh-CN": (
                "怎么还不发货？",
                "物流{days}天没更新了",
                "催发货，订单{order}",
                "快递一直不动",
            ),
            "zh-TW": ("請問什麼時候出貨？", "物流{days}天沒更新", "訂單{order}還沒收到"),
            "uk": ("Замовлення досі не прийшло", "Коли буде доставка?", "Трекінг не оновлюється"),
            "en": (
                "Order {order} still not delivered",
                "When will my order ship?",
                "Tracking hasn't updated in {days} days",
            ),
        },
        "opener": {
            "zh-CN": (
                "下单{days}天了还没发货，说好的48小时发货呢？",
                "我的{product}物流从{weekday}到现在一直没更新，单号{tracking}，是不是卡住了？",
                "订单{order}怎么还在仓库，急用，能不能加急？",
                "快递{days}天了还显示在转运中心，帮忙催一下",
            ),
            "zh-TW": (
                "下單{days}天了還沒出貨，請問什麼時候會寄？",
                "物流從{weekday}到現在都沒有更新，單號{tracking}，是卡關了嗎？",
                "訂單{order}一直顯示備貨中，可以幫我催一下嗎？",
            ),
            "uk": (
                "Замовлення досі не прийшло, трекінг не оновлюється з {weekday}. Коли буде доставка?",
                "Оплатила {amount} {days} днів тому, а посилка ще не відправлена. Що відбувається?",
                "ТТН {tracking} вже {days} днів у статусі «Прямує до відділення». Можете уточнити?",
            ),
            "en": (
                "I placed order {order} {days} days ago and it still hasn't shipped. What's going on?",
                "my tracking ({tracking}) hasn't updated since {weekday}. Is the package lost?",
                "when will my {product} arrive? It says in transit for {days} days now.",
            ),
        },
        "agent_first": {
            "zh-CN": (
                "已经帮您催促仓库了，预计今天下午发出，发货后会第一时间同步单号给您。",
                "帮您查询了，包裹目前在{carrier}中转站，受天气影响有延误，预计2-3天送达。",
                "非常抱歉让您久等，您的订单已加急处理，明天一早发出。",
            ),
            "zh-TW": (
                "已幫您向倉庫催貨，預計今天出貨，出貨後會立即提供單號。",
                "幫您查詢了，包裹目前在{carrier}轉運中心，預計2-3天內送達。",
            ),
            "uk": (
                "Перевірили: посилка зараз на сортувальному терміналі {carrier}, орієнтовна доставка — 1–2 дні.",
                "Перепрошуємо за затримку. Замовлення передали на склад з позначкою «терміново», відправимо сьогодні й надішлемо ТТН.",
            ),
            "en": (
                "Sorry for the wait. Your order ships today; you'll get the {carrier} tracking number by email tonight.",
                "I checked with {carrier}: the package is at their regional hub and should be delivered within 2–3 business days.",
            ),
        },
        "followup": {
            "zh-CN": ("还没动啊", "好的，我再等等", "再不发就取消订单了", "能退运费吗？"),
            "zh-TW": ("還是沒更新耶", "好，我再等等", "如果再不寄我要取消訂單"),
            "uk": (
                "Досі без змін.",
                "Добре, почекаю.",
                "Якщо не відправите до {weekday}, скасую замовлення.",
            ),
            "en": (
                "Still no movement.",
                "Ok, I'll wait.",
                "If it doesn't ship by {weekday} please cancel the order.",
            ),
        },
    },
    {
        "key": "price_drop",
        "weight": 6,
        "case_types": (("price-protection", 1),),
        "queue": "refunds",
        "delivered": True,
        "tags": {
            "zh-CN": ("价保",),
            "zh-TW": ("價差",),
            "uk": ("різниця-в-ціні",),
            "en": ("price-match",),
        },
        "subject": {
            "zh-CN": ("申请价保", "刚买就降价了，申请退差价", "{product}降价了"),
            "zh-TW": ("申請退價差", "剛買就降價了"),
            "uk": ("Знизилася ціна після покупки", "Повернення різниці в ціні"),
            "en": ("Price drop after purchase", "Price adjustment request for {product}"),
        },
        "opener": {
            "zh-CN": (
                "我{days}天前买的{product}，今天降价了{diff}，还在价保期内，麻烦退一下差价",
                "订单{order}，现在活动价比我买的便宜{diff}，申请价保",
            ),
            "zh-TW": ("我{days}天前買的{product}今天降價{diff}，可以退差價嗎？",),
            "uk": (
                "{days} днів тому купила товар ({product}), а тепер ціна нижча на {diff}. Чи можна повернути різницю?",
            ),
            "en": (
                "I bought a {product} {days} days ago and it's now {diff} cheaper. Do you offer a price adjustment?",
            ),
        },
        "agent_first": {
            "zh-CN": (
                "已为您提交价保申请，差价{diff}将原路退回，1-3个工作日到账。",
                "核实您的订单在价保期内，差价{diff}已申请退款，请注意查收。",
            ),
            "zh-TW": ("已為您申請退價差{diff}，將退回原付款方式，約3-5個工作天入帳。",),
            "uk": (
                "Так, ціна знизилася протягом 14 днів після покупки — повернемо різницю {diff} на вашу картку.",
            ),
            "en": (
                "Good news: your order is within our 14-day price protection. I've refunded the {diff} difference to your original payment method.",
            ),
        },
        "followup": {
            "zh-CN": ("好的谢谢", "差价到账了吗？怎么还没看到"),
            "zh-TW": ("好的，謝謝", "請問差價退了嗎？"),
            "uk": ("Дякую!", "Кошти ще не надійшли."),
            "en": ("Thanks!", "I don't see the refund yet."),
        },
    },
    {
        "key": "double_charge",
        "weight": 5,
        "case_types": (("refund-only", 1),),
        "queue": "refunds",
        "delivered": True,
        "tags": {
            "zh-CN": ("重复扣款", "退款"),
            "zh-TW": ("重複扣款",),
            "uk": ("подвійне-списання",),
            "en": ("double-charge", "billing"),
        },
        "subject": {
            "zh-CN": ("重复扣款了", "付了两次钱", "订单{order}被扣了两次款"),
            "zh-TW": ("重複扣款", "信用卡被刷兩次"),
            "uk": ("Кошти списали двічі", "Подвійна оплата замовлення {order}"),
            "en": (
                "Charged twice for order {order}",
                "Double charge on my card",
                "Duplicate payment",
            ),
        },
        "opener": {
            "zh-CN": (
                "我支付的时候卡了一下，结果扣了两次款，每次{amount}，订单号{order}，请退回多扣的钱",
                "银行卡显示扣了两笔{amount}，但我只买了一个{product}",
            ),
            "zh-TW": ("結帳時當機，結果信用卡被刷了兩次{amount}，訂單{order}，請退回多扣的金額",),
            "uk": (
                "З картки двічі списали {amount} за замовлення {order}. Поверніть, будь ласка, зайві кошти.",
            ),
            "en": (
                "I was charged twice for order {order}, {amount} each. Please refund the duplicate.",
                "my bank shows two charges of {amount} but I only ordered one {product}.",
            ),
        },
        "agent_first": {
            "zh-CN": (
                "核实到您的订单确实重复支付，多扣的{amount}已原路退回，预计1-3个工作日到账。",
            ),
            "zh-TW": ("已確認重複扣款，多扣的{amount}已退回原信用卡，約7-14個工作天入帳。",),
            "uk": (
                "Перевірили — справді було подвійне списання. Повернення {amount} вже ініційоване, кошти надійдуть протягом 3–5 робочих днів.",
            ),
            "en": (
                "You're right, the payment went through twice. I've refunded the duplicate {amount}; it should show up in 3–5 business days.",
            ),
        },
        "followup": {
            "zh-CN": ("还没到账", "好的，收到了", "能给个退款凭证吗？"),
            "zh-TW": ("還沒入帳", "收到了，謝謝"),
            "uk": ("Кошти ще не повернулися.", "Отримала, дякую."),
            "en": ("Still not refunded.", "Can you send me the refund confirmation?"),
        },
    },
    {
        "key": "change_mind",
        "weight": 10,
        "case_types": (("return-and-refund", 1),),
        "queue": "returns",
        "delivered": True,
        "tags": {
            "zh-CN": ("七天无理由", "退货"),
            "zh-TW": ("鑑賞期退貨",),
            "uk": ("повернення",),
            "en": ("return",),
        },
        "subject": {
            "zh-CN": ("申请七天无理由退货", "{product}不想要了，怎么退？", "退货退款"),
            "zh-TW": ("七天鑑賞期退貨", "{product}想退貨"),
            "uk": ("Повернення товару", "Хочу повернути {product}"),
            "en": ("Return request", "How do I return my {product}?"),
        },
        "opener": {
            "zh-CN": (
                "{product}收到了，和想象的不太一样，没拆封，申请七天无理由退货",
                "买大了，{product}吊牌还在，能退吗？运费谁出？",
                "不想要了，怎么退货？可以上门取件吗？",
            ),
            "zh-TW": (
                "{product}收到了但不太適合，還在七天鑑賞期內，想退貨",
                "請問{product}沒拆封可以退嗎？",
            ),
            "uk": (
                "Хочу повернути товар ({product}) — не підійшов. Товарний вигляд збережено, бирки на місці. 14 днів ще не минуло.",
                "Чи можна оформити легке повернення через Нову пошту? Товар ({product}) не підійшов.",
            ),
            "en": (
                "I'd like to return the {product}, it's unopened. How do I start a return?",
                "the {product} isn't what I expected. Can I send it back for a refund?",
            ),
        },
        "agent_first": {
            "zh-CN": (
                "可以的亲，商品不影响二次销售的情况下支持七天无理由退货，已为您同意退货申请，请在7天内寄回。",
                "已为您申请退货，退回运费需要您先垫付，有运费险的话会自动理赔。",
            ),
            "zh-TW": ("可以的，鑑賞期內商品保持完整即可退貨，已為您安排物流到府收件。",),
            "uk": (
                "Так, повернення можливе протягом 14 днів, якщо збережено товарний вигляд і бирки. Надсилаємо вам код для легкого повернення.",
            ),
            "en": (
                "Sure! You're within our 30-day return window. I've emailed you a return label; the refund goes out once the item reaches our warehouse.",
            ),
        },
        "followup": {
            "zh-CN": ("已经寄回了，单号{return_tracking}", "退款什么时候到？", "仓库收到了吗？"),
            "zh-TW": ("已寄回，單號{return_tracking}", "請問退款什麼時候會到？"),
            "uk": ("Відправила, ТТН {return_tracking}.", "Коли будуть кошти?"),
            "en": ("Dropped it off, tracking {return_tracking}.", "Did the warehouse receive it?"),
        },
    },
    {
        "key": "missing_part",
        "weight": 6,
        "case_types": (("reship", 1),),
        "queue": "logistics",
        "delivered": True,
        "tags": {
            "zh-CN": ("少件", "漏发"),
            "zh-TW": ("少件",),
            "uk": ("некомплект",),
            "en": ("missing-item",),
        },
        "subject": {
            "zh-CN": ("少发了配件", "{product}少件", "收到的货少了一件"),
            "zh-TW": ("少寄配件", "{product}缺零件"),
            "uk": ("Некомплект у замовленні {order}", "Не вистачає деталей"),
            "en": ("Missing item in order {order}", "Part missing from {product}"),
        },
        "opener": {
            "zh-CN": (
                "{product}收到了，但是少了充电线/配件，麻烦补发一下",
                "订单{order}买了两件只收到一件，另一件呢？",
            ),
            "zh-TW": ("{product}收到了，但是少了配件，麻煩補寄", "訂單{order}買兩件只收到一件"),
            "uk": (
                "{product}: у коробці немає зарядного кабелю. Надішліть, будь ласка.",
                "Замовляла дві одиниці, прийшла одна.",
            ),
            "en": (
                "my {product} arrived without the charging cable. Can you send one?",
                "I ordered two items in order {order} but only one was in the box.",
            ),
        },
        "agent_first": {
            "zh-CN": ("非常抱歉漏发了，已经为您安排补发，{carrier}单号稍后同步给您。",),
            "zh-TW": ("很抱歉漏寄了，已為您安排補寄，單號稍後提供。",),
            "uk": (
                "Перепрошуємо за некомплект. Надсилаємо відсутню частину сьогодні, ТТН повідомимо.",
            ),
            "en": (
                "Sorry about that! I've arranged a reship of the missing part; tracking to follow.",
            ),
        },
        "followup": {
            "zh-CN": ("补发单号是多少？", "好的谢谢"),
            "zh-TW": ("補寄單號是多少？",),
            "uk": ("Який номер ТТН?", "Дякую."),
            "en": ("What's the tracking number for the reship?", "Thanks."),
        },
    },
    {
        "key": "complaint",
        "weight": 7,
        "case_types": (("complaint", 1),),
        "queue": "complaints",
        "delivered": True,
        "tags": {
            "zh-CN": ("差评", "投诉"),
            "zh-TW": ("負評", "客訴"),
            "uk": ("скарга",),
            "en": ("complaint", "escalation"),
        },
        "subject": {
            "zh-CN": ("投诉客服态度", "要投诉！售后一直不处理", "再不处理就差评了"),
            "zh-TW": ("客訴：處理太慢", "要給負評了"),
            "uk": ("Скарга на обслуговування", "Ніхто не відповідає вже {days} днів"),
            "en": (
                "Complaint about customer service",
                "Escalation: no response in {days} days",
                "Very disappointed",
            ),
        },
        "opener": {
            "zh-CN": (
                "找了客服{days}次了都没人解决，再不处理我就给差评并投诉到平台",
                "快递员态度极差，东西直接扔门口，{product}都摔坏了，要求赔偿",
                "说好的退款{days}天了还没到账，你们到底管不管？",
            ),
            "zh-TW": (
                "已經聯繫{days}次都沒人處理，再不回覆我就給負評",
                "說好的退款{days}天了還沒入帳，到底怎麼回事？",
            ),
            "uk": (
                "Це вже третє звернення, і ніхто не вирішує питання. Якщо не відповісте сьогодні, залишу відгук і звернуся до Держпродспоживслужби.",
                "Кур'єр кинув посилку біля дверей, товар ({product}) пошкоджено. Вимагаю компенсацію.",
            ),
            "en": (
                "this is my third message and nobody has helped. I want to speak to a supervisor.",
                "I've been waiting {days} days for my refund of {amount}. This is unacceptable.",
            ),
        },
        "agent_first": {
            "zh-CN": (
                "非常抱歉给您带来了不好的体验，您的问题已升级为加急处理，主管会亲自跟进，今天内给您答复。",
                "很抱歉让您久等了，为表歉意给您申请了一张无门槛优惠券，退款已加急。",
            ),
            "zh-TW": ("非常抱歉造成您不好的體驗，已升級由主管處理，今天內一定回覆您。",),
            "uk": (
                "Щиро перепрошуємо. Ваше звернення передано керівнику відділу, ми зв'яжемося з вами сьогодні.",
            ),
            "en": (
                "I'm really sorry for the experience. I'm a supervisor and I'm taking this over personally; you'll have a resolution today.",
            ),
        },
        "followup": {
            "zh-CN": ("今天必须给我个说法", "优惠券我不要，我要退款", "行吧"),
            "zh-TW": ("今天一定要給我答覆", "好吧"),
            "uk": ("Чекаю сьогодні.", "Мені потрібні гроші, а не промокод."),
            "en": ("I'll wait until end of day.", "I don't want a coupon, I want my money back."),
        },
    },
    {
        "key": "presale",
        "weight": 6,
        "case_types": ((None, 1),),
        "queue": "presale",
        "delivered": False,
        "tags": {
            "zh-CN": ("咨询",),
            "zh-TW": ("詢問",),
            "uk": ("консультація",),
            "en": ("question",),
        },
        "subject": {
            "zh-CN": ("{product}有现货吗？", "咨询一下{product}", "能开发票吗？"),
            "zh-TW": ("{product}有現貨嗎？", "請問可以開發票嗎？"),
            "uk": ("Чи є {product} в наявності?", "Питання: {product}"),
            "en": ("Is the {product} in stock?", "Question about {product}"),
        },
        "opener": {
            "zh-CN": (
                "{product}现在下单什么时候能发货？支持货到付款吗？",
                "请问{product}保修多久？能开增值税发票吗？",
            ),
            "zh-TW": (
                "{product}現在下單什麼時候可以出貨？可以超商取貨付款嗎？",
                "請問{product}保固多久？",
            ),
            "uk": (
                "Чи можна оплатити замовлення ({product}) накладеним платежем при отриманні на Новій пошті?",
                "{product}: яка гарантія?",
            ),
            "en": (
                "if I order the {product} today, when will it arrive? Do you ship to Canada?",
                "what's the warranty on the {product}?",
            ),
        },
        "agent_first": {
            "zh-CN": ("您好，{product}有现货，今天16点前下单当天发货，支持开具电子发票。",),
            "zh-TW": ("您好，{product}目前有現貨，下單後1-2個工作天出貨，可超商取貨付款。",),
            "uk": (
                "Так, {product} в наявності. Можлива оплата при отриманні (накладений платіж), гарантія 12 місяців.",
            ),
            "en": (
                "Yes, the {product} is in stock and ships within 1 business day. It comes with a 1-year warranty.",
            ),
        },
        "followup": {
            "zh-CN": ("好的，那我下单了", "有优惠券吗？"),
            "zh-TW": ("好的，謝謝",),
            "uk": ("Дякую, замовлю.",),
            "en": ("Great, thanks!",),
        },
    },
    {
        "key": "cancel",
        "weight": 4,
        "case_types": (("refund-only", 1),),
        "queue": "refunds",
        "delivered": False,
        "tags": {
            "zh-CN": ("取消订单", "未发货退款"),
            "zh-TW": ("取消訂單",),
            "uk": ("скасування",),
            "en": ("cancellation",),
        },
        "subject": {
            "zh-CN": ("取消订单，申请退款", "拍错了，不要了"),
            "zh-TW": ("取消訂單", "下錯單了"),
            "uk": ("Скасувати замовлення {order}",),
            "en": ("Cancel order {order}", "Please cancel my order"),
        },
        "opener": {
            "zh-CN": (
                "订单{order}拍错了，还没发货，麻烦取消一下，申请仅退款",
                "不想要了，还没发货的话帮我拦截一下",
            ),
            "zh-TW": ("訂單{order}下錯了，還沒出貨的話麻煩幫我取消",),
            "uk": (
                "Прошу скасувати замовлення {order}, ще не відправлене. Поверніть кошти на картку.",
            ),
            "en": (
                "please cancel order {order}, I ordered the wrong {product}. It hasn't shipped yet.",
            ),
        },
        "agent_first": {
            "zh-CN": (
                "已为您拦截订单，退款{amount}将原路返回。",
                "您的包裹已经发出了，已为您申请快递拦截，拦截成功后退款。",
            ),
            "zh-TW": ("已為您取消訂單，款項{amount}將退回原付款方式。",),
            "uk": ("Замовлення скасовано, повернення {amount} оформлено.",),
            "en": (
                "Done — order {order} is cancelled and {amount} will be refunded to your card.",
            ),
        },
        "followup": {
            "zh-CN": ("好的", "退款到账了吗？"),
            "zh-TW": ("好的，謝謝",),
            "uk": ("Дякую.",),
            "en": ("Thanks.",),
        },
    },
)

# A customer's nudge on a ticket nobody has answered yet.
NUDGES: dict[str, tuple[str, ...]] = {
    "zh-CN": ("在吗？", "有人吗？怎么没人回复", "？？？", "还没处理吗", "人呢"),
    "zh-TW": ("請問有人嗎？", "怎麼都沒有回覆", "還在等回覆"),
    "uk": ("Є хтось?", "Чекаю на відповідь.", "Відповідайте, будь ласка."),
    "en": ("Any update?", "Hello? Still waiting.", "Following up on this."),
}

# Agent asking for something the customer must do (ticket goes pending).
AGENT_WAITING: dict[str, tuple[str, ...]] = {
    "zh-CN": (
        "麻烦您寄回后把退货单号填写在售后申请里，仓库收到后马上处理。",
        "请您提供一下收货地址和联系电话，我们核对一下。",
    ),
    "zh-TW": (
        "寄回後請提供退貨單號，倉庫收到會立即處理。",
        "麻煩提供收件地址與電話，我們核對一下。",
    ),
    "uk": (
        "Після відправлення надішліть, будь ласка, номер ТТН повернення.",
        "Підкажіть, будь ласка, номер відділення для відправки.",
    ),
    "en": (
        "Once you've shipped it, please reply with the return tracking number.",
        "Could you confirm your shipping address for us?",
    ),
}

# The agent's closing reply, per case type (what was actually done).
RESOLUTION: dict[str, dict[str, tuple[str, ...]]] = {
    "refunded": {
        "zh-CN": (
            "仓库已收到退货，退款{amount}已原路退回，请注意查收。",
            "退款已处理，{amount}会在1-3个工作日内原路返回。",
        ),
        "zh-TW": ("倉庫已收到退貨，{amount}已退回原付款方式。",),
        "uk": (
            "Повернення коштів {amount} виконано, гроші надійдуть на картку протягом 3 робочих днів.",
        ),
        "en": (
            "We've received your return. Your refund of {amount} has been issued to your original payment method.",
        ),
    },
    # Money back with nothing returned (refund-only).
    "refunded_only": {
        "zh-CN": (
            "退款{amount}已原路退回，请注意查收。",
            "已为您办理仅退款，{amount}预计1-3个工作日到账。",
        ),
        "zh-TW": ("{amount}已退回原付款方式，約3-5個工作天入帳。",),
        "uk": ("Кошти {amount} повернено на вашу картку, зарахування — до 3 робочих днів.",),
        "en": ("Your refund of {amount} has been issued to your original payment method.",),
    },
    "price_refunded": {
        "zh-CN": ("价保差价{diff}已原路退回，请注意查收。",),
        "zh-TW": ("價差{diff}已退回原付款方式。",),
        "uk": ("Різницю в ціні {diff} повернено на вашу картку.",),
        "en": ("The price difference of {diff} has been refunded to your card.",),
    },
    "exchanged": {
        "zh-CN": ("换货已发出，{carrier}单号{tracking}，请注意查收。",),
        "zh-TW": ("換貨商品已寄出，{carrier}單號{tracking}。",),
        "uk": ("Новий товар відправлено, ТТН {tracking}.",),
        "en": ("Your replacement has shipped with {carrier}, tracking {tracking}.",),
    },
    "reshipped": {
        "zh-CN": ("已经为您补发，{carrier}单号{tracking}，预计2-3天送达。",),
        "zh-TW": ("已為您補寄，{carrier}單號{tracking}。",),
        "uk": ("Повторно відправили замовлення, ТТН {tracking}.",),
        "en": ("We've reshipped your order with {carrier}: {tracking}.",),
    },
    "repaired": {
        "zh-CN": ("您的{product}已维修完成并寄回，单号{tracking}，保修期顺延30天。",),
        "zh-TW": ("您的{product}已維修完成寄回，單號{tracking}。",),
        "uk": ("Ремонт завершено, товар ({product}) відправили вам назад, ТТН {tracking}.",),
        "en": ("Your {product} has been repaired and is on its way back: {tracking}.",),
    },
    "rejected": {
        "zh-CN": (
            "很抱歉，经检测商品有明显使用痕迹，不符合七天无理由退货条件，申请未通过。",
            "仓库验货发现商品缺少配件，暂时无法退款，请补寄配件后再处理。",
        ),
        "zh-TW": ("很抱歉，經檢查商品有明顯使用痕跡，無法受理退貨。",),
        "uk": ("На жаль, товар має сліди використання, тому повернення неможливе.",),
        "en": ("Unfortunately the item shows signs of use, so we can't accept the return.",),
    },
    # Declining a claim where no goods come back (refund-only, reship, price protection).
    "declined": {
        "zh-CN": (
            "很抱歉，经核实物流显示包裹已由本人签收，暂时无法补发或退款，如有疑问可申请平台介入。",
            "很抱歉，该订单已超过价保期，无法申请价保，感谢您的理解。",
        ),
        "zh-TW": ("很抱歉，經查詢物流顯示已由本人簽收，暫時無法補寄或退款。",),
        "uk": (
            "На жаль, за даними перевізника посилку отримано особисто, тому ми не можемо повторно відправити її чи повернути кошти.",
        ),
        "en": (
            "Unfortunately the carrier confirms a signed delivery, so we can't reship or refund this order. We're happy to help you file a claim with the carrier.",
        ),
    },
    "answered": {
        "zh-CN": ("包裹已经恢复正常运输，请您留意派送电话。", "已经为您处理好了，还有其他问题吗？"),
        "zh-TW": ("包裹已恢復正常配送，請留意通知。",),
        "uk": ("Посилка вже у відділенні, можете забирати.",),
        "en": ("Your package is back on track and out for delivery today.",),
    },
    "info": {
        "zh-CN": ("好的亲，还有其他问题随时联系我们～", "已为您备注优先发货。"),
        "zh-TW": ("好的，有其他問題歡迎隨時詢問。",),
        "uk": ("Будь ласка! Якщо будуть питання — пишіть.",),
        "en": ("You're welcome! Happy to help with anything else.",),
    },
}

# A few extra tags some tickets carry, per market.
EXTRA_TAGS: dict[str, tuple[str, ...]] = {
    "zh-CN": ("加急", "运费险", "回头客", "618"),
    "zh-TW": ("蝦皮", "回購客"),
    "uk": ("накладений-платіж", "постійний-клієнт"),
    "en": ("first-order", "repeat-customer", "amazon"),
}

THANKS: dict[str, tuple[str, ...]] = {
    "zh-CN": ("收到了，谢谢", "好的，辛苦了", "已到账，谢谢", "好的👌"),
    "zh-TW": ("收到了，謝謝", "好的，辛苦了"),
    "uk": ("Отримала, дякую!", "Все добре, дякую.", "Дякую за допомогу!"),
    "en": ("Got it, thanks!", "Received, thank you.", "Perfect, thanks for the help."),
}

# Internal notes, in the assigned agent's own language. Only language-neutral slots.
NOTES: dict[str, tuple[str, ...]] = {
    "zh-CN": (
        "已联系仓库核实，等待回复",
        "老客户，可以送一张20元无门槛券安抚",
        "物流显示已签收，已向快递发起查件，单号{tracking}",
        "退款金额{amount}超过权限，需要主管审批",
        "照片显示外箱破损，判定运输损坏，已向快递索赔",
        "客户情绪比较激动，注意措辞",
    ),
    "zh-TW": (
        "已聯繫倉庫確認，等待回覆",
        "老客戶，可以給折價券安撫",
        "退款{amount}需要主管核准",
        "已向物流申請查件，單號{tracking}",
    ),
    "uk": (
        "Написали на склад, чекаємо відповіді.",
        "Постійний клієнт, можна запропонувати промокод.",
        "Відкрили претензію в Новій пошті по ТТН {tracking}.",
        "Сума {amount} потребує погодження керівника.",
    ),
    "en": (
        "Checked with the warehouse, waiting on their reply.",
        "Repeat customer — ok to offer a goodwill coupon.",
        "Opened a carrier claim for {tracking}.",
        "Refund of {amount} needs supervisor approval.",
        "Customer is upset, handle with care.",
    ),
}
