app-name = РТМС
# The sign before a number («№ 9» / "No. 9").
number-sign = №
app-subtitle = Региональная телемедицинская система
lang-switch = English
loading = Загрузка…
save = Сохранить
yes = Да
no = Нет
age-years =
    { $count ->
        [one] { $count } год
        [few] { $count } года
       *[many] { $count } лет
    }
duration-minutes =
    { $count ->
        [one] { $count } минута
        [few] { $count } минуты
       *[many] { $count } минут
    }
back-to-queue = К списку запросов

nav-queue = Запросы
nav-new-request = Новый запрос
nav-logout = Выйти

login-title = Вход в систему
login-lead = Войдите под своей учётной записью, выданной администратором РТМС.
login-login = Логин
login-password = Пароль
login-submit = Войти
login-failed = Неверный логин или пароль

password-title = Смена пароля
password-must-change = Пароль выдан администратором временно — задайте свой, чтобы продолжить.
password-current = Текущий пароль
password-new = Новый пароль (не короче 10 символов)
password-repeat = Новый пароль ещё раз
password-mismatch = Пароли не совпадают
password-changed = Пароль изменён.

err-title = Не получилось
err-forbidden = Недостаточно прав для этого действия.
err-not-found = Запрос не найден или недоступен вам.
err-wrong-state = Действие невозможно в текущем статусе:
err-concurrent = Запрос только что изменил другой пользователь — обновите страницу.
err-internal = Внутренняя ошибка сервера. Попробуйте ещё раз.
err-not-saved = Не сохранено — проверьте значение

notif-title = Уведомления
notif-empty = Новых уведомлений нет.
notif-mark-read = Отметить все как прочитанные
live-on = Обновляется автоматически

queue-heading-dispatcher = Очередь запросов региона
queue-heading-coordinator = Запросы ТКЦ
queue-heading-consultant = Запросы, назначенные мне
queue-heading-doctor = Запросы моей организации
queue-total = Найдено
queue-total-more = более { $count }
queue-empty = Запросов по этим условиям нет.
filter-search = Пациент
filter-search-hint = ФИО, СНИЛС или полис
filter-all = Все
filter-open = Все открытые
filter-overdue = Только просроченные
filter-apply = Применить
page-prev = Назад
page-next = Дальше
awaits-me = ждёт вас

col-deadline = Срок
col-form = Форма
col-status = Статус
col-patient = Пациент
col-profile = Профиль
col-mo = МО
col-tkc = ТКЦ

deadline-left = осталось { $left }
deadline-overdue = просрочен на { $late }
deadline-paused = на паузе, осталось { $left }

patient-unnamed = Пациент не указан
patient-unidentified = Неизвестный пациент

edit-title = Запрос
edit-save = Сохранить черновик
edit-submit = Отправить запрос
edit-view = Просмотр
edit-saved = Черновик сохранён.
edit-saved-partly = Сохранено, кроме полей с ошибками
edit-autosaved = Сохранено в
edit-not-sent = Запрос не отправлен: заполните отмеченные поля.
edit-has-errors = Некоторые поля заполнены неверно или не заполнены — они отмечены ниже. Всё введённое сохранено.
edit-returned = Возвращён на доработку
required-for-submit = Нужно для отправки
icd-hint = Начните вводить код или название — например, «I21» или «инфаркт».

sec-patient = Пациент
sec-consultation = Консультация
sec-diagnosis = Диагноз
sec-question = Вопрос консультанту
sec-clinical = Клинические данные
sec-consent = Согласие и контакты

f-patient-last_name = Фамилия
f-patient-first_name = Имя
f-patient-middle_name = Отчество
f-patient-birth_date = Дата рождения
f-patient-sex = Пол
f-patient-snils = СНИЛС
f-patient-oms_policy = Полис ОМС (ЕНП)
f-patient-address = Адрес
f-patient-unidentified = Пациент не идентифицирован (только экстренно)
f-patient-description = Приметы неизвестного пациента
f-form_of_care = Форма оказания помощи
f-mode = Режим
f-profile = Профиль
f-purpose = Цель консультации
f-patient_present = Пациент присутствует на консультации
f-diagnosis-main = Основной диагноз (МКБ-10)
f-diagnosis-text = Диагноз словами
f-diagnosis-complications = Осложнения (коды через запятую)
f-diagnosis-comorbidities = Сопутствующие (коды через запятую)
f-question = Вопрос(ы) к консультанту
f-anamnesis_morbi = Анамнез заболевания
f-anamnesis_vitae = Анамнез жизни
f-epidemiological_history = Эпидемиологический анамнез
f-objective_status = Объективный статус
f-vitals-bp_systolic = АД систолическое
f-vitals-bp_diastolic = АД диастолическое
f-vitals-heart_rate = ЧСС, в мин
f-vitals-resp_rate = ЧДД, в мин
f-vitals-spo2 = SpO₂, %
f-vitals-temperature = Температура, °C
f-lab_results = Лабораторные исследования (с датами)
f-instrumental_results = Инструментальные исследования (с датами)
f-current_treatment = Проводимое лечение
f-previous_consultations = Предыдущие консультации
f-consent_given = Информированное добровольное согласие получено
f-consent_ground = Основание без согласия
f-contact_phone = Телефон для связи

vital-bp = АД
vital-hr = ЧСС
vital-rr = ЧДД
vital-spo2 = SpO₂

req-actions = Действия
req-edit = Заполнить и отправить
req-from = Запрос от
req-tkc = ТКЦ
req-consultants = Консультанты
req-created = Создан
req-submitted = Отправлен
req-scheduled = ВКС
req-details = Сведения
req-no-clinical = Клинические данные не заполнены.

act-comment = Комментарий
act-reason = Причина
act-starts-at = Начало ВКС
act-duration = Длительность, мин
act-confirm = Точно отменить запрос?
assign-tkc = ТКЦ
assign-consultant = Консультант
assign-tkc-decides = — решит координатор ТКЦ —
assign-route = По таблице маршрутизации
assign-load = в работе

closeout-lead = Два коротких вопроса помогут региону — их можно пропустить.
closeout-useful = Ответ был полезен?
closeout-effect = Что изменилось

reason-not-telemedicine-case = Не требует телемедицинской консультации
reason-duplicate = Дубликат запроса
reason-wrong-profile = Неверный профиль
reason-insufficient-data = Недостаточно данных
reason-needs-in-person-care = Нужна очная помощь
reason-other = Другое
reason-no-specialist = Нет специалиста в регионе
reason-insufficient-qualification = Недостаточная квалификация в регионе
reason-treatment-adjusted = Лечение скорректировано на месте
reason-transfer-avoided = Перевода удалось избежать
reason-transfer-arranged = Организован перевод
reason-in-person-visit-needed = Нужен очный визит
reason-no-change = Ничего не изменилось

concl-title = Заключение консультанта
concl-draft = черновик, врачу не виден
concl-write = Заключение
concl-diagnosis = Диагноз консультанта (МКБ-10)
concl-findings = Заключение
concl-recommendations = Рекомендации
concl-transfer = Перевод / госпитализация (куда)
concl-follow-up-needed = Нужна повторная консультация
concl-follow-up = Повторная консультация
concl-save = Сохранить черновик
concl-sign = Подписать заключение
concl-signed = Подписано

thread-title = Вопросы и ответы
thread-empty = Вопросов пока нет.
thread-write = Сообщение
thread-send = Отправить

timeline-title = История

login-throttled = Слишком много попыток входа. Повторите через { $minutes ->
        [one] { $minutes } минуту
        [few] { $minutes } минуты
       *[many] { $minutes } минут
    }.
login-code-lead = Введите код из приложения-аутентификатора.
login-code = Код подтверждения
login-code-wrong = Неверный код — попробуйте ещё раз.
login-again = Войдите снова.

sessions-title = Сеансы и ключи API
sessions-lead = Где вы вошли в систему и какие ключи выданы интеграциям. Завершите всё, что не узнаёте.
sessions-what = Сеанс
sessions-created = Начат
sessions-seen = Активность
sessions-expires = Истекает
sessions-ip = Адрес
sessions-api = Ключ API
sessions-current = этот сеанс
sessions-end = Завершить
sessions-end-others = Завершить все другие сеансы
token-new = Новый ключ API для интеграции
token-name = Название (например, МИС больницы)
token-scopes = Права
token-scope-read = чтение
token-scope-write = изменение
token-days = Срок действия, дней
token-create = Выпустить ключ
token-created = Ключ выпущен. Скопируйте его сейчас — второй раз он показан не будет:

totp-title = Двухфакторная аутентификация
totp-manage = Настроить вход с кодом из приложения
totp-lead = Отсканируйте код приложением-аутентификатором (например, «Яндекс Ключ» или Google Authenticator) и введите шестизначный код, чтобы включить вход с подтверждением.
totp-secret = Или введите ключ вручную
totp-confirm = Включить
totp-on = Вход с кодом из приложения включён.
totp-required = Для администраторов регион требует второй фактор — включите его, чтобы продолжить.
totp-begin-lead = Вход будет требовать шестизначный код из приложения-аутентификатора на телефоне. Нажмите кнопку, чтобы получить ключ для приложения.
totp-begin = Получить ключ
totp-begin-again = Выдать другой ключ

nav-admin = Администрирование
saved = Сохранено.
edit = Изменить
remove = Убрать
admin-users = Пользователи
admin-orgs = Организации
admin-routes = Маршрутизация
admin-settings = Настройки региона
admin-import-failed = Файл не удалось прочитать.
admin-icd10-loaded = Загружено кодов МКБ-10
org-name = Наименование
org-short = Краткое наименование
org-kind = Тип
org-level = Уровень
org-oid = OID ФРМО
org-tz = Часовой пояс
org-approval = Плановые запросы согласует руководитель
org-active = Действует
org-new = Новая организация
org-edit = Изменить организацию
user-login = Логин
user-name = ФИО
user-roles = Роли
user-state = Состояние
user-inactive = отключён
user-active = активен
user-must-change = ждёт смены пароля
user-new = Новый пользователь
user-position = Должность
user-role = Роль
user-org = Организация
user-profiles = Профили (для консультантов)
user-create = Создать
user-created = Создан пользователь
user-temp-password = Временный пароль
user-temp-hint = Передайте его пользователю: при первом входе система попросит задать свой пароль.
user-import = Загрузка из CSV
user-import-hint = Первая строка — заголовки столбцов; организация — номер или краткое наименование; профили через «;». Каждая строка проверяется отдельно.
user-import-run = Загрузить
import-line = Строка
import-result = Результат
user-card = Карточка
user-active-box = Учётная запись действует (отключение сохраняет всю историю)
user-reset-password = Выдать временный пароль
user-add-role = Добавить роль
user-locked = Вход заблокирован после неудачных попыток до
user-unlock = Разблокировать вход
routes-lead = Для каждого профиля и формы помощи — ТКЦ, который принимает запрос. Экстренные запросы направляются сразу по этой таблице.
settings-deadlines = Сроки ответа, минут
settings-emergency = Экстренная
settings-urgent = Неотложная
settings-planned = Плановая
settings-uploads = Вложения
settings-quota-org = Квота организации, МБ
settings-quota-user = Квота пользователя, МБ
settings-quota-hint = Сколько могут занимать файлы сотрудников одной организации и одного пользователя вместе с незавершёнными загрузками. 0 — без ограничения. По умолчанию 1 048 576 МБ (1 ТБ) и 102 400 МБ (100 ГБ).
settings-security = Вход в систему
settings-idle = Завершать сеанс после бездействия, минут
settings-totp = Требовать второй фактор от администраторов
settings-icd10 = Справочник МКБ-10
settings-icd10-hint = Новая версия справочника НСИ (OID 1.2.643.5.1.13.13.11.1005) в формате CSV заменит текущую.
settings-icd10-load = Загрузить справочник
settings-escalate-head = Сообщать руководителю КТЦ о просрочке через, мин
settings-escalate-head-hint = Пусто — не сообщать; 0 — сразу, как только срок истёк.
audit-title = Журнал аудита
audit-csv = Выгрузить CSV
audit-action = Действие
audit-object = Объект
audit-from = С
audit-to = По
audit-time = Время
audit-who-col = Кто
audit-event = Событие

date-placeholder = ДД.ММ.ГГГГ
per-min = /мин
token-name-example = МИС ЦРБ

nav-reports = Отчёты
report-title = Отчёт по телемедицинским консультациям
report-csv = Выгрузить CSV
report-submitted = Направлено
report-answered = С заключением
report-open = В работе
report-overdue-open = Просрочено сейчас
report-returned = Возвратов на доработку
report-compliance = Соблюдение сроков
report-in-time = В срок
report-median = Медиана, ч
report-p90 = 90-й процентиль, ч
report-by-form = По форме помощи
report-by-profile = По профилям
report-by-mo = По медицинским организациям
report-by-tkc = По ТКЦ
report-by-status = По статусам
report-rejections = Отклонения по причинам
report-escalations = Передачи на федеральный уровень
report-escalations-answered = Из них получено заключение
report-closeout = Оценка врачами
report-acknowledged = Ознакомлено с заключением
report-useful-yes = Ответ полезен
report-useful-no = Ответ не помог
report-skipped = Без оценки
report-effects = Что изменилось
report-workload = Нагрузка консультантов
report-video = Видеоконсультации (ВКС)
report-video-booked = Запланировано сеансов
report-video-held = Проведено сеансов
report-video-cancelled = Отменено сеансов
report-video-minutes = Минут в эфире
report-video-person-minutes = Минут участия (сумма по участникам)
report-assigned = Назначено
report-none = Нет данных за период.
report-xlsx = Выгрузить XLSX
report-pdf = Отчёт для печати (PDF)
report-printed = Сформирован
report-period = Период
report-summary = Сводка
report-escalated = Передано на федеральный уровень
report-in-time-percent = В срок, %
report-col-name = Наименование
report-col-count = Количество
report-col-figure = Показатель
report-col-value = Значение
report-col-form = Форма помощи
report-col-consultant = Консультант

email-title = Уведомления по электронной почте
email-none = Адрес электронной почты не указан — его вносит администратор.

## Attachments and the DICOM viewer
files-title = Файлы
files-empty = Файлов пока нет.
files-add = Прикрепить файлы…
files-hint = PDF, JPEG, PNG, DICOM (или ZIP с исследованием), MP4, DOCX, XLSX; не больше
files-view = Просмотр
upload-waiting = ожидает
upload-sending = загружается
upload-checking = проверка файла…
upload-done = загружен
upload-retrying = связь прервалась, повтор через несколько секунд…
upload-failed = не загружен
upload-too-large = Файл больше допустимого размера
upload-leave = Загрузка ещё идёт. Уйти со страницы? Она продолжится с того же места, когда вы снова выберете этот файл.
viewer-title = Просмотр исследования
viewer-back = К запросу
viewer-series = Серии
viewer-images =
    { $count ->
        [one] { $count } снимок
        [few] { $count } снимка
       *[many] { $count } снимков
    }
viewer-image = Снимок
viewer-frame = Кадр
viewer-window = Окно
viewer-preset-default = Из файла
viewer-preset-lung = Лёгкие
viewer-preset-mediastinum = Средостение
viewer-preset-bone = Кости
viewer-preset-brain = Мозг
viewer-keys = Колесо мыши или стрелки ↑↓ — листать снимки; 1–5 — окна.
viewer-patient = Пациент
viewer-study = Исследование
viewer-download = Скачать файл
viewer-loading = Загрузка…
viewer-error = Снимок не удалось показать
dicom-error = Исследование не удалось прочитать:
dicom-error-not-dicom = это не файл DICOM.
dicom-error-unsupported = такое сжатие изображений не поддерживается (файл можно скачать).
dicom-error-no-image = в файле нет изображения.
dicom-error-nesting = вложенность последовательностей глубже { $limit ->
        [one] { $limit } уровня
        [few] { $limit } уровней
       *[many] { $limit } уровней
    }.
dicom-error-length = заявленная длина элемента больше самого файла.
dicom-error-elements = в файле больше { $limit ->
        [one] { $limit } элемента
        [few] { $limit } элементов
       *[many] { $limit } элементов
    } данных.
dicom-error-truncated = файл обрезан (загружен не полностью).
dicom-error-zip-entries = в архиве больше { $limit ->
        [one] { $limit } файла
        [few] { $limit } файлов
       *[many] { $limit } файлов
    }.
dicom-error-zip-size = архив распаковывается больше чем в { $limit } МБ.
dicom-error-zip-ratio = файл в архиве сжат больше чем в { $limit ->
        [one] { $limit } раз
        [few] { $limit } раза
       *[many] { $limit } раз
    } (похоже на «zip-бомбу»).
dicom-error-zip-broken = архив ZIP повреждён.
dicom-error-crashed = разбор файла завершился аварийно; повторно он не запускается.
dicom-error-timeout = разбор файла занял слишком много времени и был остановлен.
dicom-error-invalid = файл DICOM повреждён.
doc-open-pdf = Открыть заключение (PDF)
doc-seal = Скачать печать (.seal.json)
doc-verify-link = Проверить подлинность документа
verify-title = Проверка документа
verify-lead = Выберите PDF-файл заключения, выданный системой. Проверка покажет, выдан ли он здесь и не изменён ли с момента подписания.
verify-file = PDF-файл
verify-submit = Проверить
verify-valid = Документ подлинный и не изменён
verify-invalid = Документ не прошёл проверку
verify-number = Запрос №
verify-version = версия
verify-sealed = Подписан
verify-key = Ключ печати
verify-no-file = Выберите файл для проверки
rate-limited = Слишком много запросов с вашего адреса. Повторите через { $seconds ->
        [one] { $seconds } секунду
        [few] { $seconds } секунды
       *[many] { $seconds } секунд
    }.
verify-too-large = Файл больше { $mb } МБ. Заключение, выданное системой, намного меньше — проверьте, тот ли файл выбран.
email-instant = Сразу, по каждому событию
email-address = Адрес:
email-mode = Как присылать
email-off = Не присылать
email-digest = Раз в день — сводкой за прошедшие сутки
email-kinds = О каких событиях писать
## Video sessions
nav-video = Видеоконсультации
video-title = Видеоконсультации
video-room-title = ВКС
video-state-connecting = Подключение…
video-reconnecting = Связь с сервером потеряна, переподключение…
video-no-camera = Камера недоступна: вас будут только слышать
video-no-webrtc = Этот браузер не поддерживает видеосвязь (WebRTC). Откройте комнату в Chrome, Яндекс Браузере, Firefox, Edge или Safari; запрос и переписка работают и здесь.
video-you = Вы
video-mic-off = Выключить микрофон
video-mic-on = Включить микрофон
video-cam-off = Выключить камеру
video-cam-on = Включить камеру
video-screen = Показать экран
video-screen-stop = Остановить показ экрана
video-leave = Выйти из комнаты
video-participants = Участники
video-absent = не в комнате
video-request = Запрос
video-thread = Вопросы и ответы
video-log = Журнал сеанса
video-joined = вошёл
video-left = вышел
video-earlier = Раньше
video-later = Позже
video-day = День
video-week = Неделя
video-none = ВКС не запланированы
video-open-room = Войти в комнату
video-cancel = Отменить ВКС
video-cancel-confirm = Отменить этот сеанс ВКС? Участники получат уведомление.
video-cancelled = Отменена
video-feed = Календарь для вашей программы (iCalendar, ссылка секретная)
video-feed-new = Новая ссылка — скопируйте её сейчас, больше она показана не будет:
video-feed-until = Ссылка на календарь действует до
video-feed-revoke = Отозвать ссылку
video-feed-make = Создать новую ссылку
video-durations = В комнате
video-now = Видеосвязь сейчас
video-state-connected = на связи
video-state-lost = нет связи
video-alone = В комнате пока только вы
video-present = в комнате
check-title = Проверка связи для ВКС
check-intro = Проверьте камеру, микрофон и путь до сервера видеосвязи до начала сеанса. Если проверка TURN не проходит, сообщите администратору сети: нужен доступ к серверу РТМС по TCP/UDP 3478 и 5349.
check-camera = Камера
check-mic = Микрофон
check-server = Сервер РТМС
check-turn = Видеосвязь через TURN
check-running = проверяется…
check-ok = Работает
check-fail = Не работает
check-no-devices = камера или микрофон не найдены
check-denied = браузер не дал доступ к камере и микрофону: разрешите его в настройках сайта
check-sound = звук есть
check-no-sound = звука не слышно: проверьте, не выключен ли микрофон
check-server-ok = сервер отвечает
check-server-fail = сервер не отвечает
check-no-turn = сервер TURN не настроен: видеосвязь возможна только внутри одной сети
check-turn-ok = видео пройдёт даже через закрытую сеть
check-turn-fail = сервер TURN недоступен из этой сети
check-again = Проверить ещё раз
video-check-link = Проверка связи
org-video-link = Внешняя система ВКС (аппаратные терминалы)
org-video-link-hint = Ссылка на комнату внешней системы; { "{session}" } — номер сеанса, { "{room}" } — помещение, { "{title}" } — тема. Пользователи организации увидят её вместо встроенной комнаты. Пусто — встроенная комната.
video-external = Комната во внешней системе ВКС
video-open-external = Открыть во внешней системе
video-builtin-anyway = Войти во встроенную комнату
settings-region-name = Название региона
settings-region-name-example = Министерство здравоохранения Н-ской области
settings-region-name-hint = Печатается в заголовке протоколов консультаций и отчётов.
req-summary-pdf = Сводка запроса для печати (PDF)
cms-title = Электронные подписи врачей (CMS)
cms-valid = подпись действительна: все проверки ниже пройдены
cms-not-valid = подпись не признана действительной: не все проверки ниже пройдены
cms-v-integrity-ok = подпись соответствует документу
cms-v-integrity-bad = подпись не соответствует документу
cms-v-integrity-unchecked = соответствие документу не проверено
cms-v-trust-trusted = сертификат выдан доверенным удостоверяющим центром
cms-v-trust-unknown_root = сертификат выдан не доверенным удостоверяющим центром или самоподписанный
cms-v-trust-untrusted = цепочка сертификата не проходит проверку
cms-v-trust-unchecked = цепочка сертификата не проверена
cms-v-time-valid_at_signing = сертификат действовал в момент подписания
cms-v-time-expired = срок действия сертификата истёк к моменту подписания
cms-v-time-not_yet_valid = сертификат ещё не действовал в момент подписания
cms-v-revocation-not_revoked = сертификат не отозван (по списку отзыва удостоверяющего центра)
cms-v-revocation-revoked = сертификат отозван удостоверяющим центром
cms-v-revocation-unknown = отзыв не проверен: нет списка отзыва этого удостоверяющего центра
cms-v-signer-matches = сертификат выдан этому пользователю: СНИЛС и ФИО совпадают
cms-v-signer-mismatch = сертификат выдан другому лицу: СНИЛС или ФИО не совпадают
cms-v-signer-unknown = владелец не сверен: в сертификате или в профиле пользователя нет СНИЛС или ФИО
cms-unsupported = подпись сохранена, но не проверена: на сервере нет средства проверки этого алгоритма
cms-certificate = сертификат
cms-valid-until = действителен до
ukep-sign = Подписать УКЭП
ukep-cert = Сертификат для подписи
ukep-hint = Подписывается PDF заключения — ровно те байты, что хранит система; нужен КриптоПро ЭЦП Browser plug-in и токен с вашим сертификатом.
ukep-hint-semd = Подписываются PDF заключения и СЭМД — ровно те байты, что хранит система; нужен КриптоПро ЭЦП Browser plug-in и токен с вашим сертификатом.
ukep-absent = КриптоПро ЭЦП Browser plug-in в этом браузере не найден. Установите КриптоПро CSP и расширение браузера — или подпишите PDF в своей программе и прикрепите подпись ниже.
ukep-reading = Чтение сертификатов…
ukep-none = Нет действующего сертификата с закрытым ключом. Подключите токен (Рутокен, JaCarta) и нажмите ещё раз.
ukep-choose = Выберите сертификат и нажмите «Подписать УКЭП» ещё раз.
ukep-until = действует до
ukep-signing = Подписание… КриптоПро может спросить PIN-код токена.
ukep-done = Подпись прикреплена; страница покажет результат проверки.
ukep-failed = Подписать не удалось
ukep-refused = сервер не принял подпись
cms-add = Своя электронная подпись (.sig, .p7s):
cms-upload = Прикрепить подпись
cms-hint = Подпишите скачанный PDF открепленной подписью в своей программе (КриптоАРМ, КриптоПро, OpenSSL).
concl-versions = Версии заключения
concl-version = версия
concl-correct = Исправить подписанное заключение
concl-correct-hint = Подписанное заключение не меняется: будет создана новая версия со ссылкой на эту. Её подпишут все участники консультации, врач получит уведомление; прежняя версия останется доступной.
concl-correct-reason = Что исправляется и почему
concl-correct-open = Открыть исправление
concl-correction-title = Исправление заключения (новая версия)
concl-correction-waits = Исправление заключения ждёт вашей подписи.
concl-correction-sign = Подписать исправление
thread-attach = Прикрепить файл к сообщению
token-scope-fhir = FHIR R4 (/fhir/r4): для МИС и федерального уровня
esc-title = Федеральный уровень
esc-state = Передача
esc-number = Номер запроса на федеральном уровне
esc-federal-status = Состояние там
esc-next = следующая попытка
esc-pending = ожидает отправки
esc-delivered = доставлен, ждём ответа
esc-completed = ответ получен
esc-failed = не доставлен, повторим
esc-stopped = не отправлен: запрос больше не передаётся на федеральный уровень
req-package = Пакет для федерального уровня (ZIP: сводка, FHIR, файлы)
esc-manual-hint = Если регион не подключён к федеральной системе: отправьте пакет запроса, запишите здесь номер и состояние запроса на федеральном уровне, а полученный протокол прикрепите к файлам запроса.
esc-manual-save = Записать
esc-manual = записан вручную
esc-resend = Отправить сейчас
esc-overdue = Не доставлен на федеральный уровень с
esc-alarm-title = Не доставлены на федеральный уровень — проверьте связь с федеральным центром или передайте пакет вручную
esc-alarm-since = ждёт с
esc-alarm-request = Запрос №

# Role changes (separation of duties)
role-changes = Последние изменения ролей
role-changes-hint = Каждое назначение и снятие роли записывается в журнал аудита и видно всем администраторам. Клиническую роль или роль аудитора себе назначить нельзя — это делает другой администратор.
role-changes-none = Изменений ролей ещё не было.
role-changes-at = Когда
role-changes-by = Кто изменил
role-changes-what = Что
role-change-add = назначена роль
role-change-remove = снята роль
role-change-user = создан пользователь

# СЭМД «Протокол консультации»
semd-title = СЭМД «Протокол консультации»
semd-print = Печатная форма
semd-xml = Скачать XML
semd-status-created = сформирован
semd-status-signed = подписан всеми консультантами
semd-status-sent = отправлен в РЭМД
semd-status-registered = зарегистрирован в РЭМД
semd-status-rejected = отклонён РЭМД
semd-missing-title = Для СЭМД не хватает данных — подписание будет отклонено, пока их не внесут:
concl-condition = Состояние пациента
concl-condition-choose = — выберите —
cms-target = Что подписано
cms-target-pdf = PDF заключения
cms-target-semd = СЭМД (XML)
admin-snils = СНИЛС
admin-position-code = Код должности (НСИ 1.2.643.5.1.13.13.11.1002)
admin-org-address = Адрес
admin-org-phone = Телефон
settings-semd = СЭМД «Протокол консультации» (РЭМД)
settings-semd-mis = Номер МИС в ЕГИСЗ и экземпляра (N.N)
settings-semd-region-code = Код субъекта РФ (НСИ 1.2.643.5.1.13.13.99.2.206)
settings-semd-region-name = Наименование субъекта РФ, как в НСИ
settings-semd-required = Не подписывать заключение, пока для него нельзя сформировать СЭМД
f-patient-id_doc_type = Документ, удостоверяющий личность
f-patient-id_doc_series = Серия документа
f-patient-id_doc_number = Номер документа
f-patient-id_doc_issuer = Кем выдан
f-patient-id_doc_issued = Дата выдачи
f-patient-oms_policy_type = Вид полиса ОМС

# Sizes and spans, written per locale.
unit-bytes = Б
unit-kb = КБ
unit-mb = МБ
unit-gb = ГБ
unit-tb = ТБ
decimal-separator = ,
span-days = д
span-hours = ч
span-minutes = мин

# The federal outbox's known causes of a failed delivery, by the English
# prefix the service records (the technical detail follows as it came).
federal-cause-unreachable = нет связи с федеральным уровнем
federal-cause-answered = федеральный уровень ответил
federal-cause-refused = федеральный уровень не принял
federal-cause-gave-no = федеральный уровень не сообщил
federal-cause-lost = федеральный уровень потерял
federal-cause-took-no-bytes = федеральный уровень не принял данные
federal-cause-unreadable = файл не читается в регионе
federal-cause-protocol = протокол федерального уровня

# Names of downloaded files.
file-conclusion-pdf = Заключение № { $id }, версия { $version }.pdf
file-conclusion-seal = Заключение № { $id }, версия { $version }.seal.json
file-semd-xml = СЭМД № { $id }, версия { $version }.xml
file-request-pdf = Запрос № { $id }.pdf
file-federal-package = Запрос № { $id } — пакет для федерального уровня.zip
# The time a report was printed, in Moscow time.
printed-at-msk = { $at } (МСК)

# Notifications by their kind (in the bell, in e-mails): `notification-<kind>`.
notification-new_request = Новый запрос
notification-emergency = Экстренный запрос
notification-approval_needed = Нужно согласование
notification-returned = Возвращён на доработку
notification-rejected = Запрос отклонён
notification-assigned = Назначен вам
notification-declined = Консультант отказался
notification-scheduled = Запланирована ВКС
notification-question = Вопрос консультанта
notification-answer = Ответ врача
notification-conclusion_ready = Заключение готово
notification-conclusion_corrected = Заключение исправлено
notification-attachment = Новый файл в запросе
notification-escalated = Передан на федеральный уровень
notification-video_invite = Приглашение на ВКС
notification-video_now = Вас ждут в ВКС сейчас
notification-video_reminder = Скоро начнётся ВКС
notification-video_cancelled = ВКС отменена
notification-deadline_near = Срок истекает
notification-deadline_over = Срок истёк
notification-deadline_escalated = Просрочка: сообщение руководителю КТЦ
notification-duty_call = Вы дежурный: экстренный запрос, подтвердите получение
notification-duty_alarm = Дежурный не ответил на экстренный запрос
notification-other = Изменение запроса

# E-mails (plain text; the lines are joined by the service).
mail-subject = РТМС: { $what } · запрос № { $id }
mail-event = { $what }: запрос № { $id }.
mail-open = Открыть: { $url }
mail-signature = — РТМС, региональная телемедицинская система
mail-digest-subject = РТМС: сводка за { $day } · уведомлений: { $count }
mail-digest-heading = Уведомления за { $day } (МСК):
mail-digest-line = { $at } — { $what }: запрос № { $id }

# The request's timeline: what happened, by the recorded action.
event-create = Создан черновик
event-submit = Отправлен
event-approve = Согласован руководителем
event-send_back = Возвращён руководителем
event-take = Взят в работу
event-return = Возвращён на доработку
event-resubmit = Отправлен повторно
event-reject = Отклонён
event-assign = Назначен
event-accept = Принят консультантом
event-decline = Консультант отказался
event-schedule = Запланирована ВКС
event-start = Консультация начата
event-ask = Вопрос консультанта
event-answer = Ответ врача
event-sign = Заключение подписано
event-correct = Открыто исправление заключения
event-correct_sign = Исправление подписано
event-federal_delivered = Доставлен на федеральный уровень
event-federal_status = Состояние на федеральном уровне
event-acknowledge = Врач ознакомлен с заключением
event-escalate = Передан на федеральный уровень
event-record_federal_conclusion = Внесено федеральное заключение
event-cancel = Отменён
event-duty_ack = Дежурный подтвердил получение
event-duty_pass = Дежурный не ответил: передан резервному
event-duty_alarm = Никто из дежурных не ответил: тревога диспетчеру КТЦ


# The printed documents (PDF/A): a conclusion and a request's summary are
# Russian medical documents, printed in Russian whatever the reader's language.
doc-moscow-time = { $at } (МСК)
doc-conclusion-title = Протокол телемедицинской консультации
doc-corrected-version = Исправленная версия { $version }. Заменяет версию { $previous } от { $signed }
doc-vitals-bp = АД { $systolic }/{ $diastolic } мм рт. ст.
doc-vitals-hr = ЧСС { $value } в мин
doc-vitals-rr = ЧДД { $value } в мин
doc-anamnesis-morbi = Анамнез заболевания
doc-anamnesis-vitae = Анамнез жизни
doc-epidemiological-history = Эпидемиологический анамнез
doc-objective-status = Объективный статус
doc-vitals = Показатели
doc-lab-results = Лабораторные исследования
doc-instrumental-results = Инструментальные исследования
doc-current-treatment = Текущее лечение
doc-previous-consultations = Предыдущие консультации
doc-attachment = { $name } — { $kb } КБ — SHA-256 { $sha }…
doc-region-default = Региональная телемедицинская система

# Texts the server writes into shared records (in Russian, the region's
# language): the calendar feed, the federal conclusion, FHIR subscriptions.
ics-calendar-name = РТМС: ВКС
ics-session = ВКС
ics-session-for = ВКС по запросу № { $ids }
ics-participants = Участники: { $who }
federal-conclusion-heading = Заключение федерального уровня (запрос № { $id }):
federal-conclusion-icd = Диагноз по МКБ-10: { $code }
federal-conclusion-protocol = Протокол: { $url }
file-federal-protocol = Протокол федерального уровня № { $id }.pdf
fhir-ktc-dispatch = Диспетчерская служба КТЦ
fhir-protocol = Протокол телемедицинской консультации
fhir-version = версия { $version }
fhir-recommendations = Рекомендации
fhir-protocol-title = Протокол консультации № { $id }, версия { $version }
fhir-implementation = Региональная телемедицинская система
fhir-subscription-reason = РТМС: изменения запросов

# Duty rosters: the board, a centre's roster, the call on a request
nav-duty = Дежурства
duty-title = Кто дежурит сейчас
duty-board-hint = Экстренный запрос назначается дежурному по профилю сразу при отправке; если он не подтвердит получение, запрос уходит резервному, затем диспетчеру КТЦ.
duty-none = Дежурства на ближайшие двое суток не заданы.
duty-now = Сейчас
duty-next = Следующая смена
duty-nobody = Никого: экстренный запрос получит диспетчер
duty-backups = Резерв
duty-absent = отсутствует
duty-notify-enable = Включить уведомления браузера
duty-roster-title = График дежурств
duty-roster-hint = Время смен — по часовому поясу центра:
duty-export = Скачать CSV
duty-holiday = праздник
duty-week-empty = На эту неделю смен нет.
duty-delete = Удалить
duty-delete-confirm = Удалить смену?
duty-add-shift = Добавить смену
duty-add = Добавить
duty-import = Загрузить график из файла
duty-import-hint = CSV (UTF-8, разделитель «;») или XLSX: дата;профиль;вид;начало;конец;основной;резервные — как в выгрузке. Файл заменяет смены своих профилей с первого своего дня по последний. Одна ошибка — и не загружается ничего.
duty-import-button = Загрузить
duty-imported = Загружено смен: { $count }
duty-nothing-changed = График не изменён.
duty-absences = Отпуска и больничные
duty-from = С
duty-to = По
duty-show-phone = Показывать рабочие телефоны на доске дежурств
duty-calendar-source = Производственный календарь
duty-row = Строка
duty-col-date = дата
duty-col-profile = Профиль
duty-col-kind = вид
duty-col-start = начало
duty-col-end = конец
duty-col-primary = основной
duty-col-backups = резервный
duty-col-file = файл
duty-col-to = по
duty-col-from = с
duty-col-user_id = сотрудник
duty-kind-day = день
duty-kind-night = ночь
duty-kind-full = сутки
duty-kind-weekend = выходной
duty-absence-leave = отпуск
duty-absence-sick = больничный
duty-absence-other = отсутствие
duty-call-you = Вы дежурный: подтвердите получение до { $due }
duty-call-ack = Принял, смотрю
duty-call-waiting = Ждём подтверждения: { $who }, до { $due }
duty-call-dispatchers = диспетчеры КТЦ
duty-call-acked = Дежурный подтвердил получение: { $who }, { $at }
settings-duty = Дежурства и экстренные вызовы
settings-duty-ack = Время на подтверждение дежурным, мин
settings-duty-webhook = Адрес вебхука (SMS- или телефонный шлюз)
settings-duty-template = Текст сообщения вебхука
settings-duty-template-example = Экстренный запрос № {"{"}id{"}"}: {"{"}link{"}"}
settings-duty-secret = Ключ подписи вебхука (HMAC-SHA256)
settings-duty-secret-hint = Не показывается; пустое поле оставляет прежний ключ. Подпись — в заголовке X-RTMS-Signature.
report-duty = Экстренные вызовы дежурных
report-duty-none = За период дежурных не вызывали.
report-col-centre = Центр
report-col-profile = Профиль
report-duty-called = Вызовов
report-duty-acknowledged = Подтверждено
report-duty-median = До подтверждения, мин (медиана)
report-duty-p90 = До подтверждения, мин (90 %)
report-duty-backup = Ответил резервный
report-duty-alarms = Тревога диспетчеру
assign-on-duty = дежурит
assign-suggested = рекомендуется: меньше всего в работе
duty-export-xlsx = Скачать XLSX
settings-duty-auto-urgent = Неотложные запросы — сразу дежурному, как экстренные
duty-calendar-load = Производственный календарь
duty-calendar-hint = CSV на один год: дата;holiday (праздник или перенесённый выходной) или дата;workday (рабочая суббота или воскресенье). Праздник считается выходным днём графика.
duty-calendar-file = Файл
duty-calendar-source-example = Постановление Правительства РФ о переносе выходных дней, № и дата
duty-calendar-loaded = Загружено дней календаря: { $count }
duty-copy-week = Скопировать прошлую неделю сюда
duty-copied = Скопировано смен: { $count }
duty-col-source = источник
