app-name = РТМС
app-subtitle = Региональная телемедицинская система
lang-switch = English
loading = Загрузка…
save = Сохранить
yes = Да
no = Нет
years = лет
minutes = мин
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

login-locked = Слишком много неудачных попыток. Вход заблокирован до { $until } (МСК).
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
